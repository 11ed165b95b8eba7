-- Tessera schema for PostgreSQL.
--
-- Conventions:
-- * every tenant table (every table with a tenant_id column) is keyed (tenant_id, ...), so that
--   it can be distributed by tenant, and has row-level security, forced, with the policy
--   `tenant_isolation`: a row is visible and writable only while the transaction's
--   `tessera.tenant_id` setting names its tenant. With no tenant set, nothing is visible;
-- * organizations and tenants are the platform registry: no tenant_id column, no RLS;
-- * JSON documents (settings, custom attributes, audit changes) are TEXT, byte for byte as
--   written, so that they read back equal (key order, number formatting);
-- * keys that lists are sorted by (slug, username_key) use the "C" collation: byte order,
--   the same on every server and in keyset cursors;
-- * a user without a username has username_key '' (keyset paging never meets NULL);
--   uniqueness only applies to non-empty keys.
--
-- Grants to the application role are given by `PostgresStore::migrate`, not here (the role
-- name is a setting).

CREATE TABLE organizations (
    id          uuid        NOT NULL PRIMARY KEY,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE tenants (
    id               uuid        NOT NULL PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    slug             text        COLLATE "C" NOT NULL,
    display_name     text        NOT NULL,
    state            text        NOT NULL,
    settings         text        NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          bigint      NOT NULL,
    CONSTRAINT tenants_slug_unique UNIQUE (slug)
);
CREATE INDEX tenants_organization ON tenants (organization_id);

CREATE TABLE org_units (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id          uuid        NOT NULL,
    parent_id   uuid,
    name        text        NOT NULL,
    kind        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL,
    CONSTRAINT org_units_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT org_units_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX org_units_parent ON org_units (tenant_id, parent_id, id);

CREATE TABLE users (
    tenant_id            uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id                   uuid        NOT NULL,
    kind                 text        NOT NULL,
    username             text,
    username_key         text        COLLATE "C" NOT NULL DEFAULT '',
    given_name           text,
    family_name          text,
    birthday             date,
    locale               text,
    zoneinfo             text,
    picture              text,
    custom_attributes    text        NOT NULL,
    settings             text        NOT NULL,
    state                text        NOT NULL,
    state_before_delete  text,
    org_unit_id          uuid,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              bigint      NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_org_unit_fkey FOREIGN KEY (tenant_id, org_unit_id)
        REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX users_username_unique ON users (tenant_id, username_key)
    WHERE username_key <> '';
-- Keyset pages of one tenant, for every sort, with and without a state filter.
CREATE INDEX users_created ON users (tenant_id, created_at, id);
CREATE INDEX users_state_created ON users (tenant_id, state, created_at, id);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_username_sort ON users (tenant_id, username_key, id);
CREATE INDEX users_org_unit ON users (tenant_id, org_unit_id, created_at, id)
    WHERE org_unit_id IS NOT NULL;

CREATE TABLE user_emails (
    tenant_id   uuid    NOT NULL,
    user_id     uuid    NOT NULL,
    position    integer NOT NULL,
    address     text    NOT NULL,
    email_key   text    NOT NULL,
    verified    boolean NOT NULL,
    is_primary  boolean NOT NULL,
    CONSTRAINT user_emails_pkey PRIMARY KEY (tenant_id, user_id, position),
    CONSTRAINT user_emails_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_emails_email_unique ON user_emails (tenant_id, email_key);

CREATE TABLE user_phones (
    tenant_id   uuid    NOT NULL,
    user_id     uuid    NOT NULL,
    position    integer NOT NULL,
    phone       text    NOT NULL,
    verified    boolean NOT NULL,
    is_primary  boolean NOT NULL,
    CONSTRAINT user_phones_pkey PRIMARY KEY (tenant_id, user_id, position),
    CONSTRAINT user_phones_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_phones_phone_unique ON user_phones (tenant_id, phone);

CREATE TABLE org_unit_assignments (
    tenant_id   uuid        NOT NULL,
    unit_id     uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT org_unit_assignments_pkey PRIMARY KEY (tenant_id, unit_id, user_id),
    CONSTRAINT org_unit_assignments_unit_fkey FOREIGN KEY (tenant_id, unit_id)
        REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT,
    CONSTRAINT org_unit_assignments_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX org_unit_assignments_user ON org_unit_assignments (tenant_id, user_id);

CREATE TABLE api_keys (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id            uuid        NOT NULL,
    name          text        NOT NULL,
    secret_hash   text        NOT NULL,
    scopes        text        NOT NULL,
    created_by    uuid,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_secret_hash_unique ON api_keys (tenant_id, secret_hash);

CREATE TABLE setup_tokens (
    tenant_id    uuid        NOT NULL,
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    token_hash   text        NOT NULL,
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz,
    CONSTRAINT setup_tokens_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT setup_tokens_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX setup_tokens_hash_unique ON setup_tokens (tenant_id, token_hash);
CREATE INDEX setup_tokens_user ON setup_tokens (tenant_id, user_id);

-- One hash chain per tenant: the events, and the head (last seq and hash) that every append
-- locks with SELECT ... FOR UPDATE.
CREATE TABLE audit_events (
    tenant_id          uuid        NOT NULL,
    seq                bigint      NOT NULL,
    id                 uuid        NOT NULL,
    at                 timestamptz NOT NULL,
    actor_kind         text        NOT NULL,
    actor_id           text,
    actor_tenant_id    uuid,
    action             text        NOT NULL,
    subject_kind       text,
    subject_id         text,
    outcome            text        NOT NULL,
    origin_ip          text,
    origin_user_agent  text,
    origin_request_id  text,
    changes            text        NOT NULL,
    prev_hash          text        NOT NULL,
    hash               text        NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX audit_events_id_unique ON audit_events (tenant_id, id);
CREATE INDEX audit_events_action ON audit_events (tenant_id, action, seq);
CREATE INDEX audit_events_subject ON audit_events (tenant_id, subject_id, seq);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, seq);

CREATE TABLE audit_heads (
    tenant_id  uuid   NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE RESTRICT,
    seq        bigint NOT NULL,
    hash       text   NOT NULL
);

-- Tessera never changes or removes an audit event (the application role is also refused
-- UPDATE and DELETE on the table by `migrate`).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Row-level security on every tenant table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['org_units', 'users', 'user_emails', 'user_phones',
                             'org_unit_assignments', 'api_keys', 'setup_tokens',
                             'audit_events', 'audit_heads']
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
