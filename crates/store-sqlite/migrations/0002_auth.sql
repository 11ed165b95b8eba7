-- Authentication: passwords, sessions, one-time codes, refresh-token families and per-tenant
-- signing keys. Same conventions as 0001_init.sql (UUID TEXT, unix-microsecond INTEGER
-- instants, JSON as TEXT, every table keyed (tenant_id, ...), STRICT).
--
-- Every row of a user (password, sessions, codes, refresh families and their tokens) names
-- the user through a foreign key with ON DELETE CASCADE; erase_user also deletes them
-- explicitly, children first.

-- One password per user. `history` is a JSON array of earlier hashes, newest first.
CREATE TABLE passwords (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    history     TEXT    NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Sign-in sessions, found by the SHA-256 of the cookie's secret. `idle_timeout_us` is in
-- microseconds; `amr` is a JSON array of RFC 8176 values. A session is live while
-- revoked_at IS NULL and expires_at is in the future (the idle timeout is the application's
-- business: it needs last_seen_at, which touch_session keeps).
CREATE TABLE sessions (
    tenant_id     TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    idle_timeout_us INTEGER NOT NULL,
    ip            TEXT,
    user_agent    TEXT,
    device        TEXT,
    amr           TEXT    NOT NULL,
    auth_time     INTEGER NOT NULL,
    revoked_at    INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX sessions_secret_hash_unique ON sessions (tenant_id, secret_hash);
-- A user's sessions, newest first (list_sessions, eviction beyond the per-user limit).
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, created_at, id);

-- One-time codes. Only the newest code of a (purpose, target) can work, so insert_code
-- deletes the earlier one and the table holds at most one row per (tenant, purpose, target):
-- the row check_code reads and updates.
CREATE TABLE one_time_codes (
    tenant_id     TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    code_hash     TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    max_attempts  INTEGER NOT NULL,
    consumed_at   INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX one_time_codes_target_unique ON one_time_codes (tenant_id, purpose, target);
CREATE INDEX one_time_codes_user ON one_time_codes (tenant_id, user_id);

-- Refresh-token families: `generation` is the current one; a rotation moves it on with
-- `UPDATE ... WHERE generation = ? AND revoked_at IS NULL`, which only one presenter wins.
CREATE TABLE refresh_families (
    tenant_id   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    session_id  TEXT,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    generation  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX refresh_families_user ON refresh_families (tenant_id, user_id);
CREATE INDEX refresh_families_session ON refresh_families (tenant_id, session_id)
    WHERE session_id IS NOT NULL;

-- Every token a family ever had, by the SHA-256 of the token: presenting an old one is how
-- reuse is detected.
CREATE TABLE refresh_tokens (
    tenant_id   TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL,
    family_id   TEXT    NOT NULL,
    generation  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, family_id) REFERENCES refresh_families (tenant_id, id)
        ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX refresh_tokens_generation_unique
    ON refresh_tokens (tenant_id, family_id, generation);

-- Per-tenant signing keys. The private key is sealed (BLOB); the public JWK is JSON text.
-- At most one current (not retired) key per tenant.
CREATE TABLE signing_keys (
    tenant_id       TEXT    NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    kid             TEXT    NOT NULL,
    alg             TEXT    NOT NULL,
    public_jwk      TEXT    NOT NULL,
    private_sealed  BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    retired_at      INTEGER,
    publish_until   INTEGER,
    PRIMARY KEY (tenant_id, kid)
) STRICT;
CREATE UNIQUE INDEX signing_keys_current_unique ON signing_keys (tenant_id)
    WHERE retired_at IS NULL;
CREATE INDEX signing_keys_created ON signing_keys (tenant_id, created_at, kid);
