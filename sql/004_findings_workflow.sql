-- pii-auditd findings schema, version 4: the findings workflow (acknowledge, resolve by hand, the allowlist).
-- Apply with: psql -v ON_ERROR_STOP=1 -f 004_findings_workflow.sql   (or: pii-auditd --init-db)
-- Needs 001_findings_schema.sql; independent of 002 and 003 (any order). Idempotent: applying it twice changes
-- nothing. Nothing here ever holds a scanned value: who, why and when are typed by people (pii-auditd findings ack,
-- findings resolve, allow add), paths are JSON paths as findings show them.
BEGIN;

-- Acknowledged: a person has seen the finding and owns it; it stays open (pii_audit_findings, --scan-once's exit
-- status and the daemon's pii_audit_findings gauge count it) until the data is gone. Resolved by hand: who and why
-- (resolved_reason 'manual'); by an allowlist entry: 'allowlist'. A scan that sees a resolved finding again opens
-- it again and clears both (a finding that comes back is news).
ALTER TABLE pii_audit.findings
    ADD COLUMN IF NOT EXISTS resolved_reason   text,
    ADD COLUMN IF NOT EXISTS resolved_by       text,
    ADD COLUMN IF NOT EXISTS resolved_note     text,
    ADD COLUMN IF NOT EXISTS acknowledged_at   timestamptz,
    ADD COLUMN IF NOT EXISTS acknowledged_by   text,
    ADD COLUMN IF NOT EXISTS acknowledged_note text;
-- resolved_reason may already exist (003 adds it for the scans' reasons, with the same CHECK): one CHECK naming
-- every reason, the same whichever of 003 and 004 comes last. 'gone', 'deleted', 'full_scan': a scan (003); NULL with
-- resolved_at set: a full scan before 003 was applied (003 makes those 'full_scan').
ALTER TABLE pii_audit.findings DROP CONSTRAINT IF EXISTS findings_resolved_reason_check;
ALTER TABLE pii_audit.findings ADD CONSTRAINT findings_resolved_reason_check
    CHECK (resolved_reason IN ('gone', 'deleted', 'full_scan', 'manual', 'allowlist'));
CREATE INDEX IF NOT EXISTS findings_acknowledged ON pii_audit.findings (acknowledged_at)
    WHERE resolved_at IS NULL AND acknowledged_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS findings_resolved_recent ON pii_audit.findings (resolved_at)
    WHERE resolved_at IS NOT NULL;

-- The allowlist: paths of a surface that scans never report (like detectors.allow_paths in the configuration, but
-- kept here with who, why and when, and written with pii-auditd allow add). json_path is a pattern written as
-- findings show paths, where [*] matches any array index; category NULL means every category.
CREATE TABLE IF NOT EXISTS pii_audit.allowlist (
    id          bigserial PRIMARY KEY,
    table_name  text NOT NULL,          -- schema.table
    column_name text NOT NULL,
    json_path   text NOT NULL CHECK (json_path LIKE '$%'),
    category    text,                   -- NULL: every category
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    reason      text NOT NULL CHECK (reason <> ''),
    CONSTRAINT allowlist_identity UNIQUE NULLS NOT DISTINCT (table_name, column_name, json_path, category)
);
COMMENT ON TABLE pii_audit.allowlist IS
    'paths scans never report (pii-auditd allow add/list/remove); json_path: [*] matches any array index';

-- The anchored regular expression of an allowlist pattern, matching exactly the paths the scanner's own matcher
-- allows (src/detect/detect.c, allow_match): every character literal but [*], which is [ digits ]. Used to find
-- the open findings an entry covers (allow add --resolve, allow list, the report).
CREATE OR REPLACE FUNCTION pii_audit.allow_path_regex(pattern text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $fn$
SELECT '^' || replace(regexp_replace(pattern, '([!-/:-@[-`{-~])', '\\\1', 'g'), '\[\*\]', '\[[0-9]+\]') || '$'
$fn$;

INSERT INTO pii_audit.schema_version (version, file) VALUES (4, '004_findings_workflow.sql')
    ON CONFLICT (version) DO NOTHING;

COMMIT;
