-- The harness's marker: a database holding this table was created (or adopted) by phase2-bench, and only
-- such databases are ever dropped, truncated or reloaded by it.
CREATE TABLE IF NOT EXISTS "public"."phase2_bench_meta" (
    "key"        TEXT PRIMARY KEY,
    "value"      JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO "public"."phase2_bench_meta" ("key", "value")
VALUES ('marker', '"phase2-bench"')
ON CONFLICT ("key") DO NOTHING;
