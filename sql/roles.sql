-- Least-privilege roles for pii-auditd. Apply after the findings schema (every sql/NNN_*.sql, in order).
--   psql -v ON_ERROR_STOP=1 -f roles.sql
-- The role may read the scanned surfaces only: print the exact GRANTs your configuration needs with
--   pii-auditd --config /etc/pii-auditd/pii-auditd.yaml --print-grants
-- It must NOT have BYPASSRLS, superuser or ownership of the scanned tables: a surface protected by row-level
-- security is refused (never reported clean) unless a policy lets this role see every row (see docs/operations.md).
-- CONNECTION LIMIT: one pii-auditd holds at most 2 x scan.parallelism + 2 sessions during a scan (34 at the
-- maximum parallelism, 16; `pii-auditd --print-grants` prints the budget of a configuration); 40 leaves room for a
-- psql or --print-grants session as the role and for backends still ending after a reconnect. Several daemons
-- connecting as this role (a fleet on one server) share the limit: raise it to the sum of their budgets
-- (docs/operations.md, "Connection budget"). An existing role keeps its limit: check it with
-- SELECT rolconnlimit FROM pg_roles WHERE rolname = 'pii_auditd'.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pii_auditd') THEN
        CREATE ROLE pii_auditd LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
            CONNECTION LIMIT 40;
    END IF;
END
$$;
COMMENT ON ROLE pii_auditd IS 'pii-auditd scanner: reads configured JSON surfaces, writes pii_audit.* only';
-- The people who triage findings (pii-auditd findings ack/resolve, allow add/remove, report): a group role, granted
-- to their own login roles (GRANT pii_auditd_operator TO alice). It reads the findings store, writes the
-- acknowledgement and resolution columns and the allowlist, and reads no scanned table. The scanner only reads the
-- allowlist: credentials taken from the scanner cannot allowlist what it would find.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pii_auditd_operator') THEN
        CREATE ROLE pii_auditd_operator NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
END
$$;
COMMENT ON ROLE pii_auditd_operator IS 'pii-auditd operators: triage findings and keep the allowlist (no scanned data)';

GRANT USAGE ON SCHEMA pii_audit TO pii_auditd;
GRANT SELECT ON pii_audit.schema_version TO pii_auditd;
GRANT SELECT, INSERT, UPDATE ON pii_audit.scan_runs, pii_audit.scan_run_surfaces, pii_audit.scan_cursors,
    pii_audit.findings TO pii_auditd;
GRANT SELECT, INSERT, UPDATE ON pii_audit.databases TO pii_auditd;
GRANT SELECT ON pii_audit.pii_audit_findings TO pii_auditd;
GRANT USAGE ON SEQUENCE pii_audit.scan_runs_id_seq, pii_audit.findings_id_seq TO pii_auditd;
GRANT SELECT ON pii_audit.allowlist TO pii_auditd;
GRANT USAGE ON SCHEMA pii_audit TO pii_auditd_operator;
GRANT SELECT ON pii_audit.schema_version, pii_audit.scan_runs, pii_audit.scan_run_surfaces, pii_audit.scan_cursors,
    pii_audit.databases TO pii_auditd_operator;
GRANT SELECT, INSERT, DELETE ON pii_audit.allowlist TO pii_auditd_operator;
GRANT USAGE ON SEQUENCE pii_audit.allowlist_id_seq TO pii_auditd_operator;
GRANT SELECT, UPDATE (acknowledged_at, acknowledged_by, acknowledged_note, resolved_at, resolved_scan_id,
    resolved_reason, resolved_by, resolved_note) ON pii_audit.findings TO pii_auditd_operator;
-- The write-time guardrail's reject counters (pii_audit_guardrail_rejects_total), when the guardrail is installed
-- (pii-auditd --print-guardrail-sql; applying it later grants this itself).
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('pii_guardrail.reject_counts()') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION pii_guardrail.reject_counts() TO pii_auditd;
    END IF;
END
$$;
