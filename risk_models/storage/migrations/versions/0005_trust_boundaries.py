"""Trust boundaries (issue 27): four-eyes by the identity provider's subject, and on PostgreSQL the
app's login (AI_VENDOR_RISK_APP_ROLE) can no longer write review status, roles or the audit trail
directly.

Every database: `assessments.submitted_sub` / `reviewed_sub` (the identity provider's subject of the
submitter and the reviewer), `audit_log.mac` (the keyed seal of an entry; NULL on SQLite and for
entries written before this revision) and `team_mode` (one row once anyone signed in in team mode:
the CLI then refuses writes).

PostgreSQL, whatever role the app connects as:
- `audit_key`: one random 32-byte secret, readable by the owner (the role running this migration)
  only. With pgcrypto (Debian's postgresql ships it), every new entry gets `mac` = HMAC-SHA256(key,
  hash): the chain hash already covers the previous hash and every field, so whoever cannot read the
  key cannot re-chain entries with valid seals. Entries with an id above `keyed_after` must be sealed.
- SECURITY DEFINER functions owned by the owner, each writing its audit entry in the caller's
  transaction: `avr_audit_append` (any entry but review status and roles), `avr_review`
  (submit / approve / return with the workflow and four-eyes rules), `avr_set_roles`, `avr_audit_lock`
  `avr_audit_seals` (checks the seals for a verifier that cannot read the key) and
  `avr_mark_team_mode` (the app switches the database to team mode, never back). The hash is
  computed in the database exactly as `risk_models.storage.audit.entry_hash` does.
- `assessments` trigger, for every role: a new row is a draft without review fields; an approved row
  cannot be updated or deleted.
- The app role loses INSERT/UPDATE/DELETE on `audit_log`, `audit_head` and `user_roles`, UPDATE on
  `assessments`, and gets EXECUTE on the functions above (no other role may execute them).

Revision ID: 0005
Revises: 0004
"""

import os
import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
# the functions the app's login may call; avr_audit_write (any entry, no rules) is the owner's alone
APP_FUNCTIONS = ("avr_audit_lock()", "avr_audit_append(text, text, text, text, text, text, text, timestamptz)",
                 "avr_review(text, text, integer, text, text)", "avr_set_roles(text, text, text, text)",
                 "avr_audit_seals()", "avr_mark_team_mode(text)")


def _functions(schema: str, crypto: str | None) -> list[str]:
    q = f'"{schema}"'
    mac = (f"encode({crypto}.hmac(convert_to(v_hash, 'UTF8'), (SELECT key FROM {q}.audit_key WHERE id = 1), "
           "'sha256'), 'hex')") if crypto else "NULL"
    seal_ok = (f"l.mac = encode({crypto}.hmac(convert_to(l.hash, 'UTF8'), k.key, 'sha256'), 'hex')"
               if crypto else "true")
    path = f"SET search_path = {q}, pg_temp"
    return [
        # the body `entry_hash` hashes, built as Python's json.dumps(separators=(",", ":"), ensure_ascii=False)
        # does: to_json escapes exactly the characters json.dumps escapes
        f"""CREATE FUNCTION {q}.avr_entry_hash(p_prev text, p_at timestamptz, p_actor text, p_action text,
              p_entity text, p_entity_id text, p_before text, p_after text, p_reason text) RETURNS text
            LANGUAGE sql STABLE {path} AS $$
              SELECT encode(sha256(convert_to('[' || concat_ws(',', to_json(p_prev)::text,
                to_json(to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text,
                to_json(p_actor)::text, to_json(p_action)::text, to_json(p_entity)::text, to_json(p_entity_id)::text,
                coalesce(to_json(p_before)::text, 'null'), coalesce(to_json(p_after)::text, 'null'),
                to_json(p_reason)::text) || ']', 'UTF8')), 'hex') $$""",
        f"""CREATE FUNCTION {q}.avr_audit_write(p_actor text, p_action text, p_entity text, p_entity_id text,
              p_before text, p_after text, p_reason text, p_at timestamptz) RETURNS integer
            LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            DECLARE v_prev text; v_hash text; v_id integer; v_at timestamptz := coalesce(p_at, now());
            BEGIN
              IF coalesce(btrim(p_actor), '') = '' THEN
                RAISE EXCEPTION 'an audit entry needs the user who made the change';
              END IF;
              -- the head row first: the next writer waits here until this transaction ends (one chain)
              UPDATE audit_head SET entries = entries + 1 WHERE id = 1;
              SELECT hash INTO v_prev FROM audit_log ORDER BY id DESC LIMIT 1;
              v_prev := coalesce(v_prev, '{GENESIS}');
              v_hash := avr_entry_hash(v_prev, v_at, left(p_actor, 200), p_action, p_entity,
                                       left(coalesce(p_entity_id, ''), 400), p_before, p_after, coalesce(p_reason, ''));
              INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, reason, prev_hash, hash, mac)
                VALUES (v_at, left(p_actor, 200), p_action, p_entity, left(coalesce(p_entity_id, ''), 400), p_before,
                        p_after, coalesce(p_reason, ''), v_prev, v_hash, {mac})
                RETURNING id INTO v_id;
              UPDATE audit_head SET last_hash = v_hash WHERE id = 1;
              RETURN v_id;
            END $$""",
        f"""CREATE FUNCTION {q}.avr_audit_lock() RETURNS void LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            BEGIN PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE; END $$""",
        f"""CREATE FUNCTION {q}.avr_audit_append(p_actor text, p_action text, p_entity text, p_entity_id text,
              p_before text, p_after text, p_reason text, p_at timestamptz) RETURNS integer
            LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            BEGIN
              IF p_entity IN ('status', 'role') THEN
                RAISE EXCEPTION 'review status and roles are recorded by avr_review and avr_set_roles only'
                  USING ERRCODE = 'insufficient_privilege';
              END IF;
              RETURN avr_audit_write(p_actor, p_action, p_entity, p_entity_id, p_before, p_after, p_reason, p_at);
            END $$""",
        f"""CREATE FUNCTION {q}.avr_review(p_actor text, p_actor_sub text, p_id integer, p_action text,
              p_comment text) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            DECLARE r record; v_new text; v_now timestamptz := now(); v_comment text := coalesce(p_comment, '');
            BEGIN
              IF p_action NOT IN ('submit', 'approve', 'return') THEN
                RAISE EXCEPTION 'unknown review action %', p_action;
              END IF;
              IF coalesce(btrim(p_actor), '') = '' THEN RAISE EXCEPTION 'a review needs the user who makes it'; END IF;
              PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE;
              SELECT id, status, submitted_by, submitted_sub, label, content_hash INTO r
                FROM assessments WHERE id = p_id FOR UPDATE;
              IF NOT FOUND THEN RAISE EXCEPTION 'no saved assessment with id %', p_id; END IF;
              IF r.status = 'approved' THEN
                RAISE EXCEPTION 'assessment % is approved and cannot change', p_id USING ERRCODE = 'check_violation';
              END IF;
              IF p_action = 'submit' THEN
                IF r.status NOT IN ('draft', 'returned') THEN
                  RAISE EXCEPTION 'assessment % is %; only a draft or a returned assessment can be submitted',
                    p_id, r.status USING ERRCODE = 'check_violation';
                END IF;
                v_new := 'submitted';
                UPDATE assessments SET status = v_new, submitted_by = p_actor, submitted_sub = p_actor_sub,
                  submitted_at = v_now, reviewed_by = NULL, reviewed_sub = NULL, reviewed_at = NULL,
                  review_comment = NULL WHERE id = p_id;
              ELSE
                IF r.status <> 'submitted' THEN
                  RAISE EXCEPTION 'assessment % is %; only a submitted assessment can be approved or returned',
                    p_id, r.status USING ERRCODE = 'check_violation';
                END IF;
                -- four-eyes: one person by name (any case) or by the identity provider's subject
                IF lower(coalesce(r.submitted_by, '')) = lower(p_actor)
                   OR (r.submitted_sub IS NOT NULL AND r.submitted_sub = p_actor_sub) THEN
                  RAISE EXCEPTION '% submitted assessment % and cannot review it: a second person must (four-eyes)',
                    p_actor, p_id USING ERRCODE = 'check_violation';
                END IF;
                IF p_action = 'return' AND btrim(v_comment) = '' THEN
                  RAISE EXCEPTION 'returning an assessment needs a comment' USING ERRCODE = 'check_violation';
                END IF;
                v_new := CASE p_action WHEN 'approve' THEN 'approved' ELSE 'returned' END;
                UPDATE assessments SET status = v_new, reviewed_by = p_actor, reviewed_sub = p_actor_sub,
                  reviewed_at = v_now, review_comment = nullif(v_comment, '') WHERE id = p_id;
              END IF;
              PERFORM avr_audit_write(p_actor, p_action, 'status', p_id::text,
                '{{"status":' || to_json(r.status)::text || '}}',
                '{{"content_hash":' || coalesce(to_json(r.content_hash)::text, 'null') || ',"label":'
                  || coalesce(to_json(r.label)::text, 'null') || ',"status":' || to_json(v_new)::text || '}}',
                v_comment, v_now);
            END $$""",
        f"""CREATE FUNCTION {q}.avr_set_roles(p_actor text, p_username text, p_roles text, p_reason text)
              RETURNS void LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            DECLARE v_before text; v_now timestamptz := now();
            BEGIN
              IF coalesce(btrim(p_actor), '') = '' THEN RAISE EXCEPTION 'a grant needs the user who makes it'; END IF;
              IF p_roles !~ '^((viewer|assessor|approver|admin)(,(viewer|assessor|approver|admin))*)?$' THEN
                RAISE EXCEPTION 'roles %: allowed are viewer, assessor, approver, admin, comma-separated', p_roles;
              END IF;
              PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE;
              SELECT roles INTO v_before FROM user_roles WHERE username = p_username FOR UPDATE;
              IF NOT FOUND THEN
                INSERT INTO user_roles (username, roles, updated_by, updated_at) VALUES (p_username, p_roles, p_actor, v_now);
              ELSE
                UPDATE user_roles SET roles = p_roles, updated_by = p_actor, updated_at = v_now
                  WHERE username = p_username;
              END IF;
              PERFORM avr_audit_write(p_actor, 'grant', 'role', p_username, to_json(v_before)::text,
                                      to_json(p_roles)::text, coalesce(p_reason, ''), v_now);
            END $$""",
        # for a verifier that cannot read the key: the first entry after keying whose seal is missing or wrong
        f"""CREATE FUNCTION {q}.avr_audit_seals(OUT keyed boolean, OUT keyed_after integer, OUT sealed bigint,
              OUT first_bad integer) LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
            BEGIN
              SELECT {"true" if crypto else "false"}, k.keyed_after INTO keyed, keyed_after FROM audit_key k WHERE k.id = 1;
              SELECT count(*) FILTER (WHERE l.mac IS NOT NULL),
                     min(l.id) FILTER (WHERE l.mac IS NULL OR NOT ({seal_ok}))
                INTO sealed, first_bad
                FROM audit_log l CROSS JOIN audit_key k WHERE k.id = 1 AND l.id > k.keyed_after;
              IF NOT keyed THEN first_bad := NULL; END IF;
            END $$""",
        f"""CREATE FUNCTION {q}.avr_mark_team_mode(p_user text) RETURNS void
            LANGUAGE sql SECURITY DEFINER {path} AS $$
              INSERT INTO team_mode (id, since, first_user) VALUES (1, now(), left(p_user, 200))
              ON CONFLICT (id) DO NOTHING $$""",
        f"""CREATE FUNCTION {q}.assessments_guard() RETURNS trigger LANGUAGE plpgsql {path} AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                IF NEW.status <> 'draft' OR NEW.submitted_by IS NOT NULL OR NEW.reviewed_by IS NOT NULL THEN
                  RAISE EXCEPTION 'a new assessment is a draft: review status is set by avr_review only'
                    USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
              END IF;
              IF OLD.status = 'approved' THEN
                RAISE EXCEPTION 'assessment % is approved: % refused (save a new version instead)', OLD.id, TG_OP
                  USING ERRCODE = 'insufficient_privilege';
              END IF;
              RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
            END $$""",
        f"CREATE TRIGGER assessments_guard BEFORE INSERT OR UPDATE OR DELETE ON {q}.assessments "
        f"FOR EACH ROW EXECUTE FUNCTION {q}.assessments_guard()",
    ]


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("submitted_sub", sa.String(400), nullable=True))
        batch.add_column(sa.Column("reviewed_sub", sa.String(400), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    # set by the app the first time someone signs in in team mode; from then on the CLI writes nothing here
    # (its `--user` proves nobody's identity), whatever the environment of the shell it runs in
    op.create_table("team_mode", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("first_user", sa.String(200), nullable=False))
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
    if bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pgcrypto'").scalar():
        op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    crypto = bind.exec_driver_sql("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                  "WHERE extname = 'pgcrypto'").scalar()
    op.execute(f'CREATE TABLE "{schema}".audit_key (id integer PRIMARY KEY CHECK (id = 1), key bytea NOT NULL '
               "CHECK (octet_length(key) >= 32), keyed_after integer NOT NULL)")
    op.execute(f'REVOKE ALL ON "{schema}".audit_key FROM PUBLIC')
    key = f"{crypto}.gen_random_bytes(32)" if crypto else "sha256(convert_to(gen_random_uuid()::text, 'UTF8'))"
    op.execute(f'INSERT INTO "{schema}".audit_key (id, key, keyed_after) '
               f'SELECT 1, {key}, coalesce(max(id), 0) FROM "{schema}".audit_log')
    for sql in _functions(schema, crypto):
        op.execute(sql)
    for fn in ("avr_entry_hash(text, timestamptz, text, text, text, text, text, text, text)",
               "avr_audit_write(text, text, text, text, text, text, text, timestamptz)", *APP_FUNCTIONS):
        op.execute(f'REVOKE ALL ON FUNCTION "{schema}".{fn} FROM PUBLIC')
    app_role = os.environ.get("AI_VENDOR_RISK_APP_ROLE", "").strip()
    if app_role:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", app_role):
            raise ValueError(f"AI_VENDOR_RISK_APP_ROLE {app_role!r}: not a plain PostgreSQL role name")
        r = f'"{app_role}"'
        op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_log, audit_head, user_roles FROM {r}")
        op.execute(f"REVOKE UPDATE, TRUNCATE ON assessments FROM {r}")
        op.execute(f"REVOKE ALL ON audit_key FROM {r}")
        op.execute(f"GRANT SELECT ON audit_log, audit_head, user_roles, team_mode TO {r}")
        for fn in APP_FUNCTIONS:
            op.execute(f'GRANT EXECUTE ON FUNCTION "{schema}".{fn} TO {r}')
