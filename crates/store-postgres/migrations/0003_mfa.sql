-- Second factors and passwordless sign-in: the assurance a session reached, TOTP factors,
-- backup codes, passkeys, ceremony challenges, recognised devices and networks, and system-role
-- assignments.
--
-- The conventions of 0001_init.sql and 0002_auth.sql hold: every table is keyed
-- (tenant_id, ...), has forced row-level security with the `tenant_isolation` policy, and is
-- granted to the application role by `PostgresStore::migrate` (GRANT ... ON ALL TABLES).
-- Every row of a user names the user through a foreign key with ON DELETE CASCADE (erase_user
-- also deletes them explicitly). Secrets are never stored: only their hashes (backup codes,
-- challenge and device secrets) or sealed with the master key (TOTP secrets).

-- What a session reached (`acr`) and what it must still do before it is a full sign-in
-- (`restriction`: NULL, 'second_factor' or 'enrolment'). Sessions created before this
-- migration passed one factor and are not restricted.
ALTER TABLE sessions
    ADD COLUMN acr text NOT NULL DEFAULT 'urn:tessera:acr:1fa',
    ADD COLUMN restriction text NULL;

-- One TOTP authenticator per user. confirmed_at IS NULL: enrolment not finished (not a
-- factor yet). `last_step` is the last time step accepted; a use is
-- `UPDATE ... WHERE last_step < $step`, which only one of several concurrent uses wins.
CREATE TABLE totp_factors (
    tenant_id      uuid        NOT NULL,
    user_id        uuid        NOT NULL,
    secret_sealed  bytea       NOT NULL,
    created_at     timestamptz NOT NULL,
    confirmed_at   timestamptz,
    last_step      bigint      NOT NULL,
    CONSTRAINT totp_factors_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT totp_factors_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- A user's backup codes, by keyed hash; used once (`UPDATE ... WHERE used_at IS NULL`).
CREATE TABLE backup_codes (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    code_hash   text        NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT backup_codes_pkey PRIMARY KEY (tenant_id, user_id, code_hash),
    CONSTRAINT backup_codes_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Registered passkeys. `credential_id` is base64url, unique in the tenant (sign-in finds the
-- passkey by it); `credential` is the verifier's own serialisation.
CREATE TABLE passkeys (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL,
    user_id          uuid        NOT NULL,
    credential_id    text        COLLATE "C" NOT NULL,
    name             text        NOT NULL,
    aaguid           uuid,
    credential       text        NOT NULL,
    sign_count       bigint      NOT NULL,
    backup_eligible  boolean     NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz,
    CONSTRAINT passkeys_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT passkeys_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX passkeys_credential_id_unique ON passkeys (tenant_id, credential_id);
-- A user's passkeys, oldest first.
CREATE INDEX passkeys_user ON passkeys (tenant_id, user_id, created_at, id);

-- Server-side state of ceremonies in progress (passkey registration and authentication,
-- sign-in links): single use (`UPDATE ... WHERE consumed_at IS NULL AND expires_at > $now`),
-- expiring, pruned by expiry. A challenge may have no user yet (a discoverable passkey
-- sign-in): it then names its tenant only.
CREATE TABLE challenges (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id            uuid        NOT NULL,
    kind          text        NOT NULL,
    user_id       uuid,
    binding_hash  text        NOT NULL,
    secret_hash   text,
    state         text        NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    consumed_at   timestamptz,
    CONSTRAINT challenges_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT challenges_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX challenges_secret_hash_unique ON challenges (tenant_id, secret_hash)
    WHERE secret_hash IS NOT NULL;
CREATE INDEX challenges_user ON challenges (tenant_id, user_id) WHERE user_id IS NOT NULL;
-- Pruning runs tenant by tenant (row-level security), by expiry.
CREATE INDEX challenges_expiry ON challenges (tenant_id, expires_at);

-- Browsers and apps a user signed in from, found by the SHA-256 of the device cookie's
-- secret. remember_until: until when the second factor is skipped there.
CREATE TABLE devices (
    tenant_id       uuid        NOT NULL,
    id              uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    secret_hash     text        NOT NULL,
    description     text,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    remember_until  timestamptz,
    revoked_at      timestamptz,
    CONSTRAINT devices_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT devices_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX devices_secret_hash_unique ON devices (tenant_id, secret_hash);
-- A user's devices, most recently seen first.
CREATE INDEX devices_user ON devices (tenant_id, user_id, last_seen_at, id);

-- Networks (an IPv4 /24 or IPv6 /48) a user signed in from.
CREATE TABLE known_networks (
    tenant_id      uuid        NOT NULL,
    user_id        uuid        NOT NULL,
    prefix         text        NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    CONSTRAINT known_networks_pkey PRIMARY KEY (tenant_id, user_id, prefix),
    CONSTRAINT known_networks_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- System roles held by users (`role` is the role's key: 'admin', 'cashier'...).
CREATE TABLE user_roles (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    role        text        NOT NULL,
    granted_at  timestamptz NOT NULL,
    CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, role),
    CONSTRAINT user_roles_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- Who holds a role (e.g. the administrators of a tenant).
CREATE INDEX user_roles_role ON user_roles (tenant_id, role, user_id);

-- Row-level security on every new tenant table, exactly as in 0001_init.sql.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['totp_factors', 'backup_codes', 'passkeys', 'challenges',
                             'devices', 'known_networks', 'user_roles']
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
