/* The views of `virtscope top` as tables: each view turns the model into
 * rows of cells, every cell with the text shown and, for figures, the number
 * behind it (what sorting and JSON use). The screen, the batch frames and
 * the JSON objects are all written from these tables and from the header
 * lines below, so they cannot disagree. */
#ifndef VS_TOP_VIEWS_H
#define VS_TOP_VIEWS_H

#include <stddef.h>
#include <stdio.h>

#include "top_model.h"

enum vs_top_view {
	VS_TOP_THREADS,
	VS_TOP_DOMAINS,
	VS_TOP_LOCKS,
	VS_TOP_RPC,
	VS_TOP_DBUS,
	VS_TOP_FORKS,
	VS_TOP_STALLS,
	VS_TOP_NR_VIEWS,
};

struct vs_top_column {
	const char *title; /* on screen */
	const char *json;  /* in JSON */
	int width;         /* 0: the rest of the line (the last column) */
	int left;          /* left-aligned text */
};

#define VS_TOP_CELL_LEN 160
#define VS_TOP_MAX_COLS 13 /* the widest view's columns */

struct vs_top_cell {
	char text[VS_TOP_CELL_LEN];
	double num;   /* the figure; NaN for text */
	int has_num;
};

struct vs_top_row {
	struct vs_top_cell *cells;
	uint32_t tid;       /* the thread the row is about, 0 none */
	vs_stack_id stack;  /* its stack, for the details, 0 none */
};

struct vs_top_table {
	enum vs_top_view view;
	const struct vs_top_column *cols;
	int ncols;
	struct vs_top_row *rows;
	size_t nr, cap;
};

/* The view's name ("threads") and title ("Threads"). */
const char *vs_top_view_name(enum vs_top_view v);
const char *vs_top_view_title(enum vs_top_view v);
/* The view named name, or -1. */
int vs_top_view_find(const char *name);
/* The column a view is sorted by at first. */
int vs_top_view_default_sort(enum vs_top_view v);

/* Builds view v of the model into t (emptied first), keeping the rows that
 * contain filter (case-insensitive; NULL or "" keeps all), sorted by column
 * sort_col, descending unless ascending. 0 or -ENOMEM. */
int vs_top_table_build(struct vs_top_table *t, const struct vs_top_model *m, enum vs_top_view v,
		       const char *filter, int sort_col, int ascending);
void vs_top_table_release(struct vs_top_table *t);

/* The header, as lines of at most 80 characters: the same on screen and
 * in batch frames. Returns the number of lines (at most 4). */
int vs_top_header_lines(const struct vs_top_model *m, char lines[][128], int max);

/* A batch frame: the header, then every view's table (rows at most per
 * table, 0 for all). */
void vs_top_write_text(FILE *out, const struct vs_top_model *m, size_t rows);
/* One JSON object on one line: the header's figures and every view. */
void vs_top_write_json(FILE *out, const struct vs_top_model *m, size_t rows);

/* A table's line: cells padded to their columns, cut at width characters. */
void vs_top_format_row(const struct vs_top_table *t, const struct vs_top_cell *cells, char *buf,
		       size_t len, int width);
void vs_top_format_titles(const struct vs_top_table *t, char *buf, size_t len, int width);
/* Where column col starts in a formatted line, and its width there; -1 for
 * no such column. */
int vs_top_column_span(const struct vs_top_table *t, int col, int *width);

#endif
