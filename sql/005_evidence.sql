-- pii-auditd findings schema, version 5: what each finding rests on (its evidence).
-- Apply with: psql -v ON_ERROR_STOP=1 -f 005_evidence.sql   (or: pii-auditd --init-db)
-- Needs 001_findings_schema.sql; independent of 002, 003 and 004 (any order). Idempotent: applying it twice changes
-- nothing. Nothing here ever holds a scanned value.
BEGIN;

-- evidence: 'key' (a dictionary key with a plausible value no validator can confirm), 'value' (a validated value
-- pattern), 'key+value' (both: the key names the category and the value validates as that kind), 'context' (the
-- place decided: a name in a person's object, a typed value's label, a device id in a device). docs/detection.md,
-- "Evidence and confidence". NULL for a finding last seen by a pii-auditd before this version; the next scan that
-- sees it again fills it in.
ALTER TABLE pii_audit.findings ADD COLUMN IF NOT EXISTS evidence text;
ALTER TABLE pii_audit.findings DROP CONSTRAINT IF EXISTS findings_evidence_check;
ALTER TABLE pii_audit.findings ADD CONSTRAINT findings_evidence_check
    CHECK (evidence IN ('key', 'value', 'key+value', 'context'));
COMMENT ON COLUMN pii_audit.findings.evidence IS
    'what the finding rests on: key | value | key+value | context (docs/detection.md); NULL: recorded before version 5';

INSERT INTO pii_audit.schema_version (version, file) VALUES (5, '005_evidence.sql')
    ON CONFLICT (version) DO NOTHING;

COMMIT;
