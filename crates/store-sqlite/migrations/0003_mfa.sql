-- Second factors and passwordless sign-in: the assurance a session reached, TOTP factors,
-- backup codes, passkeys, ceremony challenges, recognised devices and networks, and system-role
-- assignments. Same conventions as 0001_init.sql and 0002_auth.sql (UUID TEXT,
-- unix-microsecond INTEGER instants, booleans as 0/1 INTEGER, every table keyed
-- (tenant_id, ...), STRICT).
--
-- Every row of a user names the user through a foreign key with ON DELETE CASCADE; erase_user
-- also deletes them explicitly. Secrets are never stored: only their hashes (backup codes,
-- challenge and device secrets) or sealed with the master key (TOTP secrets).

-- What a session reached (`acr`) and what it must still do before it is a full sign-in
-- (`restriction`: NULL, 'second_factor' or 'enrolment'). Sessions created before this
-- migration passed one factor and are not restricted.
ALTER TABLE sessions ADD COLUMN acr TEXT NOT NULL DEFAULT 'urn:tessera:acr:1fa';
ALTER TABLE sessions ADD COLUMN restriction TEXT NULL;

-- One TOTP authenticator per user. confirmed_at IS NULL: enrolment not finished (not a
-- factor yet). `last_step` is the last time step accepted; a use is
-- `UPDATE ... WHERE last_step < ?`, which only one of several concurrent uses of a step wins.
CREATE TABLE totp_factors (
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    secret_sealed  BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    confirmed_at   INTEGER,
    last_step      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- A user's backup codes, by keyed hash; used once (`UPDATE ... WHERE used_at IS NULL`).
CREATE TABLE backup_codes (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Registered passkeys. `credential_id` is base64url, unique in the tenant (sign-in finds the
-- passkey by it); `credential` is the verifier's own serialisation.
CREATE TABLE passkeys (
    tenant_id        TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    credential_id    TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    aaguid           TEXT,
    credential       TEXT    NOT NULL,
    sign_count       INTEGER NOT NULL,
    backup_eligible  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX passkeys_credential_id_unique ON passkeys (tenant_id, credential_id);
-- A user's passkeys, oldest first.
CREATE INDEX passkeys_user ON passkeys (tenant_id, user_id, created_at, id);

-- Server-side state of ceremonies in progress (passkey registration and authentication,
-- sign-in links): single use (`UPDATE ... WHERE consumed_at IS NULL AND expires_at > ?`),
-- expiring, pruned by expiry. A challenge may have no user yet (a discoverable passkey
-- sign-in): it then names its tenant only.
CREATE TABLE challenges (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    id            TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    user_id       TEXT,
    binding_hash  TEXT    NOT NULL,
    secret_hash   TEXT,
    state         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    consumed_at   INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX challenges_secret_hash_unique ON challenges (tenant_id, secret_hash)
    WHERE secret_hash IS NOT NULL;
CREATE INDEX challenges_user ON challenges (tenant_id, user_id) WHERE user_id IS NOT NULL;
-- Pruning is a maintenance task across tenants: by expiry alone.
CREATE INDEX challenges_expiry ON challenges (expires_at);

-- Browsers and apps a user signed in from, found by the SHA-256 of the device cookie's
-- secret. remember_until: until when the second factor is skipped there.
CREATE TABLE devices (
    tenant_id       TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    secret_hash     TEXT    NOT NULL,
    description     TEXT,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    remember_until  INTEGER,
    revoked_at      INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX devices_secret_hash_unique ON devices (tenant_id, secret_hash);
-- A user's devices, most recently seen first.
CREATE INDEX devices_user ON devices (tenant_id, user_id, last_seen_at, id);

-- Networks (an IPv4 /24 or IPv6 /48) a user signed in from.
CREATE TABLE known_networks (
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    prefix         TEXT    NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, prefix),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- System roles held by users (`role` is the role's key: 'admin', 'cashier'...).
CREATE TABLE user_roles (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- Who holds a role (e.g. the administrators of a tenant).
CREATE INDEX user_roles_role ON user_roles (tenant_id, role, user_id);
