-- Tessera schema for SQLite (embedded default).
--
-- Conventions:
-- * ids are UUIDs stored as lower-case hyphenated TEXT;
-- * instants are INTEGER unix microseconds (UTC), the precision every Tessera store keeps;
-- * JSON documents (settings, custom attributes, audit changes) are TEXT, byte for byte as
--   written, so that they read back equal;
-- * every tenant table is keyed (tenant_id, ...) and every query filters on tenant_id;
-- * a user without a username has username_key '' (so that keyset paging by username never
--   meets NULL); uniqueness only applies to non-empty keys.

CREATE TABLE organizations (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE tenants (
    id               TEXT    NOT NULL PRIMARY KEY,
    organization_id  TEXT    NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    slug             TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    settings         TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    CONSTRAINT tenants_slug_unique UNIQUE (slug)
) STRICT;
CREATE INDEX tenants_organization ON tenants (organization_id);

CREATE TABLE org_units (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id          TEXT    NOT NULL,
    parent_id   TEXT,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
) STRICT;
CREATE INDEX org_units_parent ON org_units (tenant_id, parent_id, id);

CREATE TABLE users (
    tenant_id            TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id                   TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    username             TEXT,
    username_key         TEXT    NOT NULL DEFAULT '',
    given_name           TEXT,
    family_name          TEXT,
    birthday             TEXT,
    locale               TEXT,
    zoneinfo             TEXT,
    picture              TEXT,
    custom_attributes    TEXT    NOT NULL,
    settings             TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    state_before_delete  TEXT,
    org_unit_id          TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    version              INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, org_unit_id) REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT
) STRICT;
CREATE UNIQUE INDEX users_username_unique ON users (tenant_id, username_key) WHERE username_key <> '';
CREATE INDEX users_created ON users (tenant_id, created_at, id);
CREATE INDEX users_state_created ON users (tenant_id, state, created_at, id);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_username_sort ON users (tenant_id, username_key, id);
CREATE INDEX users_org_unit ON users (tenant_id, org_unit_id, created_at, id) WHERE org_unit_id IS NOT NULL;

CREATE TABLE user_emails (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    address     TEXT    NOT NULL,
    email_key   TEXT    NOT NULL,
    verified    INTEGER NOT NULL,
    is_primary  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, position),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX user_emails_email_unique ON user_emails (tenant_id, email_key);

CREATE TABLE user_phones (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    phone       TEXT    NOT NULL,
    verified    INTEGER NOT NULL,
    is_primary  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, position),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX user_phones_phone_unique ON user_phones (tenant_id, phone);

CREATE TABLE org_unit_assignments (
    tenant_id   TEXT    NOT NULL,
    unit_id     TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, unit_id, user_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES org_units (tenant_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX org_unit_assignments_user ON org_unit_assignments (tenant_id, user_id);

CREATE TABLE api_keys (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id            TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    created_by    TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX api_keys_secret_hash_unique ON api_keys (tenant_id, secret_hash);

CREATE TABLE setup_tokens (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX setup_tokens_hash_unique ON setup_tokens (tenant_id, token_hash);
CREATE INDEX setup_tokens_user ON setup_tokens (tenant_id, user_id);

-- One hash chain per tenant: the events, and the head (last seq and hash) that every append
-- locks (BEGIN IMMEDIATE serialises writers on SQLite).
CREATE TABLE audit_events (
    tenant_id        TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    id               TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    actor_kind       TEXT    NOT NULL,
    actor_id         TEXT,
    actor_tenant_id  TEXT,
    action           TEXT    NOT NULL,
    subject_kind     TEXT,
    subject_id       TEXT,
    outcome          TEXT    NOT NULL,
    origin_ip        TEXT,
    origin_user_agent TEXT,
    origin_request_id TEXT,
    changes          TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;
CREATE UNIQUE INDEX audit_events_id_unique ON audit_events (id);
CREATE INDEX audit_events_action ON audit_events (tenant_id, action, seq);
CREATE INDEX audit_events_subject ON audit_events (tenant_id, subject_id, seq);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, seq);

CREATE TABLE audit_heads (
    tenant_id  TEXT    NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE RESTRICT,
    seq        INTEGER NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;

-- Tessera never changes or removes an audit event.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
