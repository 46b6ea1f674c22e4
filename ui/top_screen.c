/* The ncurses screen of `virtscope top`: header, view tabs, the current
 * view's table with the selection, and a status line; or the help, or a
 * row's details. Colours only where the terminal has them and NO_COLOR is
 * not set. Resizes come as KEY_RESIZE, after which everything is drawn to
 * the new size. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top_ui.h"

enum { PAIR_TITLE = 1, PAIR_TAB, PAIR_SEL, PAIR_ALERT };

static int colors;

int vs_top_screen_open(void)
{
	const char *no_color = getenv("NO_COLOR");

	if (!initscr())
		return -1;
	cbreak(); /* Ctrl-C still raises SIGINT, which ends the session cleanly */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colors = has_colors() && !(no_color && *no_color);
	if (colors) {
		start_color();
		use_default_colors();
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_GREEN);
		init_pair(PAIR_TAB, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_SEL, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_ALERT, COLOR_RED, -1);
	}
	return 0;
}

void vs_top_screen_close(void)
{
	if (!isendwin())
		endwin();
}

int vs_top_screen_key(void)
{
	return getch();
}

static void line(int y, const char *s, attr_t attr)
{
	if (y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	if (attr)
		attron(attr);
	addnstr(s, COLS);
	if (attr) {
		/* A bar spans the whole width, as htop's column titles. */
		for (int x = (int)strlen(s); x < COLS; x++)
			addch(' ');
		attroff(attr);
	}
}

static attr_t pair(int p, attr_t fallback)
{
	return colors ? COLOR_PAIR(p) : fallback;
}

static int draw_header(const struct vs_top_model *m)
{
	char lines[4][128];
	int n = vs_top_header_lines(m, lines, 4);

	for (int i = 0; i < n; i++) {
		/* What needs attention stands out: lost events, a status. */
		int alert = (i == 2 && m->hdr.lost.cum.count) || i == 3;

		line(i, lines[i], alert ? pair(PAIR_ALERT, A_BOLD) : 0);
	}
	return n;
}

static void draw_tabs(int y, const struct vs_top_ui *ui)
{
	int x = 0;

	move(y, 0);
	clrtoeol();
	for (int v = 0; v < VS_TOP_NR_VIEWS && x < COLS; v++) {
		char tab[32];
		attr_t a = v == (int)ui->view ? pair(PAIR_TAB, A_REVERSE) : 0;

		snprintf(tab, sizeof(tab), "%d %s", v + 1, vs_top_view_name(v));
		if (a)
			attron(a);
		mvaddnstr(y, x, tab, COLS - x);
		if (a)
			attroff(a);
		x += (int)strlen(tab) + 1;
	}
}

static void draw_status(const struct vs_top_ui *ui)
{
	char s[256];

	if (ui->prompt == VS_TOP_PROMPT_FILTER)
		snprintf(s, sizeof(s), "filter: %s_", ui->input);
	else if (ui->prompt == VS_TOP_PROMPT_DELAY)
		snprintf(s, sizeof(s), "refresh delay in seconds (now %.1f): %s_", ui->delay_s,
			 ui->input);
	else if (ui->prompt == VS_TOP_PROMPT_FLAME)
		snprintf(s, sizeof(s), "flame graph of the last 30 s: [c]pu or [o]ff-cpu? %s_",
			 ui->input);
	else if (ui->message[0])
		snprintf(s, sizeof(s), "%s", ui->message);
	else
		snprintf(s, sizeof(s), "h help  q quit  1-7 views  <> sort  / filter%s%s  Enter details",
			 ui->filter[0] ? ": " : "", ui->filter);
	line(LINES - 1, s, pair(PAIR_TITLE, A_REVERSE));
}

static void draw_table(int y0, struct vs_top_ui *ui)
{
	const struct vs_top_table *t = &ui->table;
	int rows = LINES - 1 - (y0 + 1), x, w;
	char buf[1024];

	vs_top_format_titles(t, buf, sizeof(buf), COLS);
	line(y0, buf, pair(PAIR_TITLE, A_REVERSE));
	/* The sorted column's title is underlined and bold, as htop marks it:
	 * the text itself stays as in batch frames. */
	x = vs_top_column_span(t, ui->sort_col[ui->view], &w);
	if (x >= 0 && x < COLS)
		mvchgat(y0, x, x + w > COLS ? COLS - x : w, A_BOLD | A_UNDERLINE | (colors ? 0 : A_REVERSE),
			colors ? PAIR_TITLE : 0, NULL);
	if (rows <= 0)
		return;
	if (ui->selected < ui->scroll)
		ui->scroll = ui->selected;
	if (ui->selected >= ui->scroll + (size_t)rows)
		ui->scroll = ui->selected - (size_t)rows + 1;
	for (int i = 0; i < rows; i++) {
		size_t r = ui->scroll + (size_t)i;

		if (r >= t->nr) {
			move(y0 + 1 + i, 0);
			clrtoeol();
			continue;
		}
		vs_top_format_row(t, t->rows[r].cells, buf, sizeof(buf), COLS);
		line(y0 + 1 + i, buf, r == ui->selected ? pair(PAIR_SEL, A_REVERSE) : 0);
	}
}

static void draw_text(int y0, const char *const *text, int n)
{
	for (int y = y0; y < LINES - 1; y++)
		line(y, y - y0 < n ? text[y - y0] : "", 0);
}

void vs_top_screen_draw(struct vs_top_ui *ui, const struct vs_top_model *m)
{
	int y = draw_header(m);

	draw_tabs(y++, ui);
	if (ui->help) {
		int n = 0;

		while (vs_top_help[n])
			n++;
		draw_text(y, vs_top_help, n);
	} else if (ui->details) {
		const char *text[VS_TOP_MAX_DETAIL_LINES];

		for (int i = 0; i < ui->nr_detail; i++)
			text[i] = ui->detail[i];
		draw_text(y, text, ui->nr_detail);
	} else {
		draw_table(y, ui);
	}
	draw_status(ui);
	refresh();
}
