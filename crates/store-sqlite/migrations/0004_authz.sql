-- Authorization: custom roles, scoped role assignments (replacing user_roles), permission
-- templates and their grants, registered resource types, versioned policy sets, the epoch of
-- each tenant's model and the decision log. Same conventions as the earlier migrations (UUID
-- TEXT, unix-microsecond INTEGER instants, booleans as 0/1 INTEGER, JSON documents as TEXT,
-- every table keyed (tenant_id, ...), STRICT).
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
    tenant_id      TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    role_key       TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    priority       INTEGER NOT NULL,
    -- The parent's key (a system or a custom role), and the same key when it is custom.
    parent         TEXT,
    parent_custom  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, role_key),
    CHECK (parent_custom IS NULL OR parent_custom = parent),
    FOREIGN KEY (tenant_id, parent_custom) REFERENCES custom_roles (tenant_id, role_key)
        ON DELETE RESTRICT
) STRICT;
CREATE INDEX custom_roles_parent ON custom_roles (tenant_id, parent_custom)
    WHERE parent_custom IS NOT NULL;

-- Roles held by users, within a scope: 'tenant', 'self' or 'unit:<uuid>'.
CREATE TABLE role_assignments (
    tenant_id    TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    custom_role  TEXT,
    unit_id      TEXT,
    granted_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role, scope),
    CHECK (custom_role IS NULL OR custom_role = role),
    CHECK ((unit_id IS NULL AND scope IN ('tenant', 'self'))
        OR (unit_id IS NOT NULL AND scope = 'unit:' || unit_id)),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, custom_role) REFERENCES custom_roles (tenant_id, role_key)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, unit_id) REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
) STRICT;
-- Who holds a role (e.g. the administrators of a tenant).
CREATE INDEX role_assignments_role ON role_assignments (tenant_id, role, user_id);
CREATE INDEX role_assignments_custom_role ON role_assignments (tenant_id, custom_role)
    WHERE custom_role IS NOT NULL;
CREATE INDEX role_assignments_unit ON role_assignments (tenant_id, unit_id)
    WHERE unit_id IS NOT NULL;

-- The system roles granted before scopes existed apply to the whole tenant.
INSERT INTO role_assignments (tenant_id, user_id, role, scope, custom_role, unit_id, granted_at)
    SELECT tenant_id, user_id, role, 'tenant', NULL, NULL, granted_at FROM user_roles;
DROP TABLE user_roles;

-- Permission templates. `permissions` is a JSON array of permission strings, `menu` a JSON
-- array of menu items.
CREATE TABLE templates (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    template_key  TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    permissions   TEXT    NOT NULL,
    menu          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, template_key)
) STRICT;

-- Templates granted to roles (`target` is the role's key) or to users (`target` is the user's
-- id).
CREATE TABLE template_grants (
    tenant_id     TEXT    NOT NULL,
    template_key  TEXT    NOT NULL,
    target_kind   TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    custom_role   TEXT,
    user_id       TEXT,
    granted_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, template_key, target_kind, target),
    CHECK ((target_kind = 'user' AND user_id = target AND custom_role IS NULL)
        OR (target_kind = 'role' AND user_id IS NULL
            AND (custom_role IS NULL OR custom_role = target))),
    FOREIGN KEY (tenant_id, template_key) REFERENCES templates (tenant_id, template_key)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, custom_role) REFERENCES custom_roles (tenant_id, role_key)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX template_grants_user ON template_grants (tenant_id, user_id, template_key)
    WHERE user_id IS NOT NULL;
CREATE INDEX template_grants_custom_role ON template_grants (tenant_id, custom_role)
    WHERE custom_role IS NOT NULL;

-- Resource types registered by the tenant (`body`: the whole type as JSON).
CREATE TABLE resource_types (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
) STRICT;

-- Versions of the tenant's Cedar policy set (1, 2, 3...; never changed). The newest is in
-- force.
CREATE TABLE policy_sets (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    version     INTEGER NOT NULL CHECK (version >= 1),
    text        TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT,
    PRIMARY KEY (tenant_id, version)
) STRICT;

-- The epoch of each tenant's authorization model, advanced by every change to it (no row:
-- epoch 0).
CREATE TABLE authz_epochs (
    tenant_id  TEXT    NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE RESTRICT,
    epoch      INTEGER NOT NULL
) STRICT;

-- Sampled authorization decisions (`request`: the request as evaluated, JSON).
CREATE TABLE decision_log (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id         TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    request    TEXT    NOT NULL,
    allowed    INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
-- The newest decisions of a tenant first.
CREATE INDEX decision_log_newest ON decision_log (tenant_id, at DESC, id DESC);
