-- Authentication: passwords, sessions, one-time codes, refresh-token families and signing keys.
--
-- The conventions of 0001_init.sql hold: every table is keyed (tenant_id, ...), has forced
-- row-level security with the `tenant_isolation` policy, and is granted to the application
-- role by `PostgresStore::migrate` (GRANT ... ON ALL TABLES). Secrets are never stored, only
-- their hashes (sessions, codes, refresh tokens) or sealed with the master key (signing keys).
-- Durations are whole microseconds (bigint), the precision of every timestamp.

-- A user's password: the current hash (PHC string or an imported bcrypt hash) and the
-- earlier ones, newest first.
CREATE TABLE passwords (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    hash        text        NOT NULL,
    history     text[]      NOT NULL DEFAULT '{}',
    changed_at  timestamptz NOT NULL,
    CONSTRAINT passwords_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT passwords_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Server-side sessions, found by the SHA-256 of the cookie's secret.
CREATE TABLE sessions (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL,
    user_id          uuid        NOT NULL,
    secret_hash      text        NOT NULL,
    created_at       timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    idle_timeout_us  bigint      NOT NULL,
    ip               text,
    user_agent       text,
    device           text,
    amr              text[]      NOT NULL DEFAULT '{}',
    auth_time        timestamptz NOT NULL,
    revoked_at       timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_secret_hash_unique ON sessions (tenant_id, secret_hash);
-- A user's sessions, newest first (lists, the per-user limit, ending them).
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, created_at, id);

-- One-time codes and links. Only the newest unconsumed code of (purpose, target) is checked.
CREATE TABLE one_time_codes (
    tenant_id     uuid        NOT NULL,
    id            uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    purpose       text        NOT NULL,
    target        text        NOT NULL,
    code_hash     text        NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempts      integer     NOT NULL,
    max_attempts  integer     NOT NULL,
    consumed_at   timestamptz,
    CONSTRAINT one_time_codes_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT one_time_codes_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX one_time_codes_live ON one_time_codes (tenant_id, purpose, target, created_at, id)
    WHERE consumed_at IS NULL;
CREATE INDEX one_time_codes_user ON one_time_codes (tenant_id, user_id);

-- Refresh-token families (one per sign-in): the current generation and the family's end.
-- session_id is not a foreign key: a family issued outside a sign-in session has none, and a
-- family is revoked together with its session rather than through the schema.
CREATE TABLE refresh_families (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    session_id  uuid,
    client_id   text        NOT NULL,
    scope       text        NOT NULL,
    generation  bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CONSTRAINT refresh_families_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT refresh_families_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_families_user ON refresh_families (tenant_id, user_id);
CREATE INDEX refresh_families_session ON refresh_families (tenant_id, session_id)
    WHERE session_id IS NOT NULL;

-- Every token a family issued (its hash), with the generation it was issued for: presenting
-- an older generation is a reuse.
CREATE TABLE refresh_tokens (
    tenant_id   uuid        NOT NULL,
    token_hash  text        NOT NULL,
    family_id   uuid        NOT NULL,
    generation  bigint      NOT NULL,
    issued_at   timestamptz NOT NULL,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (tenant_id, token_hash),
    CONSTRAINT refresh_tokens_family_fkey FOREIGN KEY (tenant_id, family_id)
        REFERENCES refresh_families (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX refresh_tokens_generation_unique
    ON refresh_tokens (tenant_id, family_id, generation);

-- Per-tenant signing keys; at most one current (not retired) key per tenant.
CREATE TABLE signing_keys (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    kid             text        COLLATE "C" NOT NULL,
    alg             text        NOT NULL,
    public_jwk      text        NOT NULL,
    private_sealed  bytea       NOT NULL,
    created_at      timestamptz NOT NULL,
    retired_at      timestamptz,
    publish_until   timestamptz,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (tenant_id, kid)
);
CREATE UNIQUE INDEX signing_keys_current_unique ON signing_keys (tenant_id)
    WHERE retired_at IS NULL;
CREATE INDEX signing_keys_created ON signing_keys (tenant_id, created_at, kid);

-- Row-level security on every new tenant table, exactly as in 0001_init.sql.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['passwords', 'sessions', 'one_time_codes', 'refresh_families',
                             'refresh_tokens', 'signing_keys']
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
