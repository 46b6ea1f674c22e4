/* The interactive part of `virtscope top`: what the user has chosen (view,
 * sort, selection, filter, pause), the key bindings that change it, and the
 * ncurses screen that draws the model with it.
 *
 * As in htop, keys map to handlers through a table; a handler only changes
 * the state and returns reaction flags (redraw, quit, ...), which the
 * command acts upon; it never draws. */
#ifndef VS_TOP_UI_H
#define VS_TOP_UI_H

#include "top_views.h"

enum vs_top_reaction {
	VS_TOP_REDRAW = 1 << 0,  /* the screen must be drawn again */
	VS_TOP_QUIT = 1 << 1,
	VS_TOP_RESET = 1 << 2,   /* forget the cumulative figures */
	VS_TOP_DELAY = 1 << 3,   /* the refresh delay changed */
	VS_TOP_DETAILS = 1 << 4, /* show the selected row's details */
	VS_TOP_FLAME = 1 << 5,   /* write a flame graph */
	VS_TOP_REFRESH = 1 << 6, /* refresh now */
};

enum vs_top_prompt { VS_TOP_NO_PROMPT, VS_TOP_PROMPT_FILTER, VS_TOP_PROMPT_DELAY,
		     VS_TOP_PROMPT_FLAME };

#define VS_TOP_MAX_DETAIL_LINES 64

struct vs_top_ui {
	enum vs_top_view view;
	int sort_col[VS_TOP_NR_VIEWS];
	int ascending[VS_TOP_NR_VIEWS];
	size_t selected;   /* row index in the current table */
	size_t scroll;     /* first row shown */
	uint32_t selected_tid; /* kept across refreshes while rows move */
	char filter[64];
	int paused;
	int help;
	int details;       /* the details window is open */
	char detail[VS_TOP_MAX_DETAIL_LINES][160];
	int nr_detail;
	enum vs_top_prompt prompt;
	char input[64];    /* what was typed at the prompt */
	double delay_s;
	char flame_kind[8]; /* "cpu" or "off", for the F key */
	char message[160];  /* one line at the bottom until the next key */
	int color;
	struct vs_top_table table; /* the current view, as last drawn */
};

void vs_top_ui_init(struct vs_top_ui *ui, double delay_s, int color);
void vs_top_ui_release(struct vs_top_ui *ui);

/* Rebuilds the current view's table from the model. */
int vs_top_ui_build(struct vs_top_ui *ui, const struct vs_top_model *m);

/* Handles one key (ncurses' code); returns vs_top_reaction flags. */
int vs_top_ui_key(struct vs_top_ui *ui, int key);

/* The help text, one line per entry, NULL-terminated. */
extern const char *const vs_top_help[];

/* The ncurses screen. open() returns 0 or -1 (not a terminal). */
int vs_top_screen_open(void);
void vs_top_screen_close(void);
void vs_top_screen_draw(struct vs_top_ui *ui, const struct vs_top_model *m);
/* The next key, or -1 (ERR) when none is waiting. */
int vs_top_screen_key(void);

#endif
