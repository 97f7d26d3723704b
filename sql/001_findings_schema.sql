-- pii-auditd findings schema, version 1.
-- Apply with: psql -v ON_ERROR_STOP=1 -f 001_findings_schema.sql   (or: pii-auditd --init-db), as the owner of the
-- database or a superuser (it creates the schema pii_audit). Idempotent: applying it again, also after the later
-- files, changes nothing (every object is created only when it does not exist, and is never replaced).
-- Nothing here ever holds a scanned value: findings are (table, column, record id, JSON path, category, rule).
BEGIN;

CREATE SCHEMA IF NOT EXISTS pii_audit;
COMMENT ON SCHEMA pii_audit IS 'pii-auditd findings store: locations of personal data, never the data itself';

CREATE TABLE IF NOT EXISTS pii_audit.schema_version (
    version    integer PRIMARY KEY,
    file       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per scan (a --scan-once run or a scheduled/signalled daemon scan).
CREATE TABLE IF NOT EXISTS pii_audit.scan_runs (
    id                bigserial PRIMARY KEY,
    trigger           text NOT NULL CHECK (trigger IN ('cli', 'schedule', 'signal')),
    mode              text NOT NULL CHECK (mode IN ('incremental', 'full', 'mixed')),
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'ok', 'partial', 'failed', 'cancelled', 'interrupted')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    hostname          text,
    pid               integer,
    version           text,
    surfaces_total    integer NOT NULL DEFAULT 0,
    surfaces_failed   integer NOT NULL DEFAULT 0,
    rows_scanned      bigint NOT NULL DEFAULT 0,
    bytes_scanned     bigint NOT NULL DEFAULT 0,
    new_findings      bigint NOT NULL DEFAULT 0,
    resolved_findings bigint NOT NULL DEFAULT 0,
    invalid_documents bigint NOT NULL DEFAULT 0,
    error_class       text,
    error_message     text
);
CREATE INDEX IF NOT EXISTS scan_runs_started ON pii_audit.scan_runs (started_at DESC);
CREATE INDEX IF NOT EXISTS scan_runs_running ON pii_audit.scan_runs (id) WHERE status = 'running';

-- Per surface outcome of each scan.
CREATE TABLE IF NOT EXISTS pii_audit.scan_run_surfaces (
    scan_id           bigint NOT NULL REFERENCES pii_audit.scan_runs (id) ON DELETE CASCADE,
    table_name        text NOT NULL,   -- schema.table
    column_name       text NOT NULL,
    mode              text NOT NULL CHECK (mode IN ('incremental', 'full')),
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'ok', 'failed', 'cancelled', 'interrupted')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    rows_scanned      bigint NOT NULL DEFAULT 0,
    bytes_scanned     bigint NOT NULL DEFAULT 0,
    new_findings      bigint NOT NULL DEFAULT 0,
    resolved_findings bigint NOT NULL DEFAULT 0,
    invalid_documents bigint NOT NULL DEFAULT 0,
    truncated_records bigint NOT NULL DEFAULT 0,
    error_class       text,
    error_message     text,
    PRIMARY KEY (scan_id, table_name, column_name)
);

-- Incremental cursor per surface. last_id is written in the same transaction as the findings of the batch it
-- ends, so the cursor can never be ahead of committed findings.
CREATE TABLE IF NOT EXISTS pii_audit.scan_cursors (
    table_name        text NOT NULL,
    column_name       text NOT NULL,
    id_column         text NOT NULL,
    id_type           text NOT NULL,   -- format_type() of the id column when the cursor was written
    last_id           text,            -- highest id read, in the id type's text form
    last_scan_id      bigint,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_full_scan_id bigint,          -- last full scan that read the whole surface successfully
    last_full_scan_at timestamptz,
    PRIMARY KEY (table_name, column_name)
);

CREATE TABLE IF NOT EXISTS pii_audit.findings (
    id               bigserial PRIMARY KEY,
    table_name       text NOT NULL,    -- schema.table
    column_name      text NOT NULL,
    record_id        text NOT NULL,    -- the id column's value in text form
    json_path        text NOT NULL,    -- JSONPath; keys that look like PII are written <category>
    category         text NOT NULL,
    detector         text NOT NULL CHECK (detector IN ('key', 'value')),
    rule             text NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    first_scan_id    bigint NOT NULL,
    last_scan_id     bigint NOT NULL,
    resolved_at      timestamptz,      -- set when a full scan no longer sees it (record changed or deleted)
    resolved_scan_id bigint,
    CONSTRAINT findings_identity UNIQUE (table_name, column_name, record_id, json_path, category)
);
CREATE INDEX IF NOT EXISTS findings_open_by_surface ON pii_audit.findings (table_name, column_name, category)
    WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS findings_recent ON pii_audit.findings (first_seen_at DESC);
CREATE INDEX IF NOT EXISTS findings_last_scan ON pii_audit.findings (table_name, column_name, last_scan_id)
    WHERE resolved_at IS NULL;

-- The seed's table shape, so existing queries keep working: open findings only; sample_snippet is always NULL
-- (pii-auditd never stores values); detected_key is the dictionary key for key findings, else the category.
-- Created once: a later version may redefine it, and applying this file again must not undo that.
DO $$
BEGIN
    IF pg_catalog.to_regclass('pii_audit.pii_audit_findings') IS NULL THEN
        CREATE VIEW pii_audit.pii_audit_findings AS
        SELECT id,
               table_name,
               column_name,
               record_id,
               CASE WHEN rule LIKE 'key:%' THEN substr(rule, 5) ELSE category END AS detected_key,
               NULL::text AS sample_snippet,
               first_seen_at AS detected_at
          FROM pii_audit.findings
         WHERE resolved_at IS NULL;
    END IF;
END
$$;

INSERT INTO pii_audit.schema_version (version, file) VALUES (1, '001_findings_schema.sql')
    ON CONFLICT (version) DO NOTHING;

COMMIT;
