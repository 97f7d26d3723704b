/* sql_embed: the versioned findings-schema files, embedded at build time (sql/embed.py). */
#ifndef PA_SQL_EMBED_H
#define PA_SQL_EMBED_H

#include <stddef.h>

struct pa_sql_file {
    int version;      /* NNN of sql/NNN_name.sql */
    const char *name; /* file name, e.g. "001_findings_schema.sql" */
    const char *text;
    size_t len;
};

extern const struct pa_sql_file pa_sql_files[];
extern const unsigned pa_sql_files_count;

#endif
