-- Authorization: custom roles, scoped role assignments (replacing user_roles), permission
-- templates and their grants, registered resource types, versioned policy sets, the epoch of
-- each tenant's model and the decision log.
--
-- The conventions of the earlier migrations hold: every table is keyed (tenant_id, ...), has
-- forced row-level security with the `tenant_isolation` policy, and is granted to the
-- application role by `PostgresStore::migrate`; JSON documents are TEXT; keys that lists are
-- sorted by use the "C" collation.
--
-- A role is written as its key: a system role ('admin', 'cashier'...) or a custom role of the
-- tenant. Where a row may name a custom role, a user or a unit, a nullable copy of that name
-- (`custom_role`, `user_id`, `unit_id`) carries the foreign key, and a CHECK keeps the copy
-- equal to the name. So:
-- * a missing user, custom role, template or unit refuses the write (NotFound);
-- * erasing a user removes their assignments and template grants (ON DELETE CASCADE; erase_user
--   also deletes them explicitly);
-- * deleting a custom role removes its assignments and grants (CASCADE), and is refused while
--   another role names it as parent (RESTRICT); deleting a template removes its grants;
-- * a unit that scopes an assignment cannot be deleted (RESTRICT: "still in use").

CREATE TABLE custom_roles (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    role_key       text        COLLATE "C" NOT NULL,
    name           text        NOT NULL,
    description    text        NOT NULL,
    priority       integer     NOT NULL,
    -- The parent's key (a system or a custom role), and the same key when it is custom.
    parent         text        COLLATE "C",
    parent_custom  text        COLLATE "C",
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    version        bigint      NOT NULL,
    CONSTRAINT custom_roles_pkey PRIMARY KEY (tenant_id, role_key),
    CONSTRAINT custom_roles_parent_check CHECK (parent_custom IS NULL OR parent_custom = parent),
    CONSTRAINT custom_roles_parent_fkey FOREIGN KEY (tenant_id, parent_custom)
        REFERENCES custom_roles (tenant_id, role_key) ON DELETE RESTRICT
);
CREATE INDEX custom_roles_parent ON custom_roles (tenant_id, parent_custom)
    WHERE parent_custom IS NOT NULL;

-- Roles held by users, within a scope: 'tenant', 'self' or 'unit:<uuid>'.
CREATE TABLE role_assignments (
    tenant_id    uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    role         text        COLLATE "C" NOT NULL,
    scope        text        COLLATE "C" NOT NULL,
    custom_role  text        COLLATE "C",
    unit_id      uuid,
    granted_at   timestamptz NOT NULL,
    CONSTRAINT role_assignments_pkey PRIMARY KEY (tenant_id, user_id, role, scope),
    CONSTRAINT role_assignments_custom_role_check CHECK (custom_role IS NULL OR custom_role = role),
    CONSTRAINT role_assignments_scope_check CHECK (
        (unit_id IS NULL AND scope IN ('tenant', 'self'))
        OR (unit_id IS NOT NULL AND scope = 'unit:' || unit_id::text)),
    CONSTRAINT role_assignments_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT role_assignments_custom_role_fkey FOREIGN KEY (tenant_id, custom_role)
        REFERENCES custom_roles (tenant_id, role_key) ON DELETE CASCADE,
    CONSTRAINT role_assignments_unit_fkey FOREIGN KEY (tenant_id, unit_id)
        REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
);
-- Who holds a role (e.g. the administrators of a tenant).
CREATE INDEX role_assignments_role ON role_assignments (tenant_id, role, user_id);
CREATE INDEX role_assignments_custom_role ON role_assignments (tenant_id, custom_role)
    WHERE custom_role IS NOT NULL;
CREATE INDEX role_assignments_unit ON role_assignments (tenant_id, unit_id)
    WHERE unit_id IS NOT NULL;

-- The system roles granted before scopes existed apply to the whole tenant. (The migration
-- runs as the owner, which row-level security does not restrict unless forced: the copy sees
-- every tenant's rows.)
ALTER TABLE user_roles NO FORCE ROW LEVEL SECURITY;
INSERT INTO role_assignments (tenant_id, user_id, role, scope, custom_role, unit_id, granted_at)
    SELECT tenant_id, user_id, role, 'tenant', NULL, NULL, granted_at FROM user_roles;
DROP TABLE user_roles;

-- Permission templates. `permissions` is a JSON array of permission strings, `menu` a JSON
-- array of menu items.
CREATE TABLE templates (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    template_key  text        COLLATE "C" NOT NULL,
    name          text        NOT NULL,
    description   text        NOT NULL,
    permissions   text        NOT NULL,
    menu          text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint      NOT NULL,
    CONSTRAINT templates_pkey PRIMARY KEY (tenant_id, template_key)
);

-- Templates granted to roles (`target` is the role's key) or to users (`target` is the user's
-- id).
CREATE TABLE template_grants (
    tenant_id     uuid        NOT NULL,
    template_key  text        COLLATE "C" NOT NULL,
    target_kind   text        COLLATE "C" NOT NULL,
    target        text        COLLATE "C" NOT NULL,
    custom_role   text        COLLATE "C",
    user_id       uuid,
    granted_at    timestamptz NOT NULL,
    CONSTRAINT template_grants_pkey PRIMARY KEY (tenant_id, template_key, target_kind, target),
    CONSTRAINT template_grants_target_check CHECK (
        (target_kind = 'user' AND user_id::text = target AND custom_role IS NULL)
        OR (target_kind = 'role' AND user_id IS NULL
            AND (custom_role IS NULL OR custom_role = target))),
    CONSTRAINT template_grants_template_fkey FOREIGN KEY (tenant_id, template_key)
        REFERENCES templates (tenant_id, template_key) ON DELETE CASCADE,
    CONSTRAINT template_grants_custom_role_fkey FOREIGN KEY (tenant_id, custom_role)
        REFERENCES custom_roles (tenant_id, role_key) ON DELETE CASCADE,
    CONSTRAINT template_grants_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX template_grants_user ON template_grants (tenant_id, user_id, template_key)
    WHERE user_id IS NOT NULL;
CREATE INDEX template_grants_custom_role ON template_grants (tenant_id, custom_role)
    WHERE custom_role IS NOT NULL;

-- Resource types registered by the tenant (`body`: the whole type as JSON).
CREATE TABLE resource_types (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name       text COLLATE "C" NOT NULL,
    body       text NOT NULL,
    CONSTRAINT resource_types_pkey PRIMARY KEY (tenant_id, name)
);

-- Versions of the tenant's Cedar policy set (1, 2, 3...; never changed). The newest is in
-- force. Two concurrent saves of one version meet on the primary key: one fails.
CREATE TABLE policy_sets (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    version     bigint      NOT NULL CHECK (version >= 1),
    text        text        NOT NULL,
    comment     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text,
    CONSTRAINT policy_sets_pkey PRIMARY KEY (tenant_id, version)
);

-- The epoch of each tenant's authorization model, advanced by every change to it (no row:
-- epoch 0).
CREATE TABLE authz_epochs (
    tenant_id  uuid   NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE RESTRICT,
    epoch      bigint NOT NULL
);

-- Sampled authorization decisions (`request`: the request as evaluated, JSON).
CREATE TABLE decision_log (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id         uuid        NOT NULL,
    at         timestamptz NOT NULL,
    request    text        NOT NULL,
    allowed    boolean     NOT NULL,
    reason     text        NOT NULL,
    CONSTRAINT decision_log_pkey PRIMARY KEY (tenant_id, id)
);
-- The newest decisions of a tenant first.
CREATE INDEX decision_log_newest ON decision_log (tenant_id, at DESC, id DESC);

-- Row-level security on every new tenant table, exactly as in 0001_init.sql.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['custom_roles', 'role_assignments', 'templates', 'template_grants',
                             'resource_types', 'policy_sets', 'authz_epochs', 'decision_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''tessera.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''tessera.tenant_id'', true), '''')::uuid)',
            t);
    END LOOP;
END;
$$;
