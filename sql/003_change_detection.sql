-- pii-auditd findings schema, version 3: change detection, resumable full scans, resolution reasons.
-- Apply with: psql -v ON_ERROR_STOP=1 -f 003_change_detection.sql   (or: pii-auditd --init-db)
-- Needs 001_findings_schema.sql; independent of 002 and 004 (any order). Idempotent: applying it twice changes
-- nothing.
-- Nothing here ever holds a scanned value: watermarks are transaction ids or timestamps of the scanned database,
-- positions are record ids (or block numbers of keyless surfaces).
BEGIN;

-- Change detection (docs/architecture.md, "Change detection"): what the incremental scans of a surface have read.
--   watermark          every live row version of the surface older than it (an xid8, as text) whose key is
--                      <= watermark_last_id was read by a complete scan
--   changed_watermark  with changed_column: that column's value (text) when the watermark was taken
--   watermark_last_id  the key the watermark covers up to (the tail cursor last_id when it was written)
--   tail_watermark     the watermark of the scan that first moved last_id past watermark_last_id: the rows between
--                      them were read after it (NULL once a scan completes)
--   watermark_kind     'xmin' or 'changed:<column>': a watermark of another kind is not used
--   relation_oid       the table the watermark was taken on: a table dropped and created again is read in full
-- A full scan in progress (resumed at the next scan after a failure):
--   full_pos           every row up to it (key order, or block number of a keyless surface) was read by this pass
--   full_scan_id       the scan run the pass began in: at its end, findings not seen since are resolved
--   full_watermark     the watermark taken when the pass began (xid8, then a space and changed_column's value)
--   full_fingerprint   keyless surfaces: the relations and files the block numbers refer to
--   full_started_at    when the pass's first batch was committed
--   full_oversized_rows  rows too big to fetch (scan.max_document_bytes) that the scans met since the pass began:
--                      the cursor's oversized_rows (002) once the pass completes
-- The last complete full pass:
--   last_full_scan_seconds  what it took: the seconds the surface's scans spent since it began, summed over the
--                      runs it spanned (a pass resumes after a failure; the time between runs is not counted)
ALTER TABLE pii_audit.scan_cursors
    ADD COLUMN IF NOT EXISTS watermark         text,
    ADD COLUMN IF NOT EXISTS changed_watermark text,
    ADD COLUMN IF NOT EXISTS watermark_last_id text,
    ADD COLUMN IF NOT EXISTS tail_watermark    text,
    ADD COLUMN IF NOT EXISTS watermark_kind    text,
    ADD COLUMN IF NOT EXISTS relation_oid      bigint,
    ADD COLUMN IF NOT EXISTS full_pos          text,
    ADD COLUMN IF NOT EXISTS full_scan_id      bigint,
    ADD COLUMN IF NOT EXISTS full_watermark    text,
    ADD COLUMN IF NOT EXISTS full_fingerprint  text,
    ADD COLUMN IF NOT EXISTS full_started_at   timestamptz,
    ADD COLUMN IF NOT EXISTS full_oversized_rows bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_full_scan_seconds double precision;

-- Why a finding was resolved: 'gone' (its record was read again without it), 'deleted' (its record no longer
-- exists), 'full_scan' (a complete full scan did not see it); 004_findings_workflow.sql adds 'manual' and
-- 'allowlist' (by people). Findings resolved before this version: 'full_scan' (the only way there was).
-- resolved_reason may already exist (004 adds it too): one CHECK naming every reason, the same whichever of 003 and
-- 004 comes last, so the two apply in any order.
ALTER TABLE pii_audit.findings ADD COLUMN IF NOT EXISTS resolved_reason text;
ALTER TABLE pii_audit.findings DROP CONSTRAINT IF EXISTS findings_resolved_reason_check;
ALTER TABLE pii_audit.findings ADD CONSTRAINT findings_resolved_reason_check
    CHECK (resolved_reason IN ('gone', 'deleted', 'full_scan', 'manual', 'allowlist'));
UPDATE pii_audit.findings SET resolved_reason = 'full_scan'
 WHERE resolved_at IS NOT NULL AND resolved_reason IS NULL;
COMMENT ON COLUMN pii_audit.findings.record_id IS
    'the id column''s value in text form; a composite key as a text array literal of its columns ({1,2024-06-01}); '
    'a keyless surface ctid:(block,offset), which is not stable: the row''s location when it was read';

-- Rows read again by change detection, per surface and run; when the surface's last batch was committed (the end
-- of its work in a run that was interrupted: the time a full pass spanning runs took counts up to it, not up to the
-- next run that found the process dead).
ALTER TABLE pii_audit.scan_run_surfaces
    ADD COLUMN IF NOT EXISTS rows_reread bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_progress_at timestamptz;

INSERT INTO pii_audit.schema_version (version, file) VALUES (3, '003_change_detection.sql')
    ON CONFLICT (version) DO NOTHING;

COMMIT;
