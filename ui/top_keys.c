/* The state of the interactive view and its key bindings: a table from key
 * to handler, as htop has. Handlers change the state and return reaction
 * flags; drawing is the screen's business. */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "top_ui.h"

const char *const vs_top_help[] = {
	"virtscope top: the daemon live. Keys:",
	"",
	"  1-7, F1..F7, Tab  views: threads, domains, locks, RPC, D-Bus, forks, stalls",
	"  t D l R b f s     the same views by letter (T L B S too)",
	"  arrows, j k       move the selection; PgUp PgDn Home End",
	"  < >               sort by the column left or right; i inverts the order",
	"  /                 filter rows containing a text (empty: all)",
	"  Enter             details of the selected row, with its stack",
	"  p                 pause (figures keep being collected)",
	"  r                 reset the cumulative figures",
	"  d                 change the refresh delay",
	"  F                 write a flame graph of the last on-CPU or off-CPU samples",
	"  h ?               this help;  q  quit (or Esc, Ctrl-C)",
	"",
	"Figures are over the last interval; ALL- columns since the start (or r).",
	"Header: stall = the longest main-loop turn of the interval; lost events",
	"are events virtscope could not read (never hidden).",
	"",
	"Press any key to leave the help.",
	NULL,
};

void vs_top_ui_init(struct vs_top_ui *ui, double delay_s, int color)
{
	memset(ui, 0, sizeof(*ui));
	for (int v = 0; v < VS_TOP_NR_VIEWS; v++)
		ui->sort_col[v] = vs_top_view_default_sort(v);
	ui->delay_s = delay_s;
	ui->color = color;
	snprintf(ui->flame_kind, sizeof(ui->flame_kind), "cpu");
}

void vs_top_ui_release(struct vs_top_ui *ui)
{
	vs_top_table_release(&ui->table);
}

int vs_top_ui_build(struct vs_top_ui *ui, const struct vs_top_model *m)
{
	struct vs_top_table *t = &ui->table;
	int rc = vs_top_table_build(t, m, ui->view, ui->filter, ui->sort_col[ui->view],
				    ui->ascending[ui->view]);

	if (rc)
		return rc;
	/* The selection follows its thread when rows move. */
	if (ui->selected_tid)
		for (size_t i = 0; i < t->nr; i++)
			if (t->rows[i].tid == ui->selected_tid) {
				ui->selected = i;
				break;
			}
	if (ui->selected >= t->nr)
		ui->selected = t->nr ? t->nr - 1 : 0;
	return 0;
}

/* ---- handlers ---- */

static int select_row(struct vs_top_ui *ui, long delta)
{
	long n = (long)ui->table.nr, s = (long)ui->selected + delta;

	if (s >= n)
		s = n - 1;
	if (s < 0)
		s = 0;
	ui->selected = (size_t)s;
	ui->selected_tid = n ? ui->table.rows[s].tid : 0;
	return VS_TOP_REDRAW;
}

static int up(struct vs_top_ui *ui) { return select_row(ui, -1); }
static int down(struct vs_top_ui *ui) { return select_row(ui, 1); }
static int page_up(struct vs_top_ui *ui) { return select_row(ui, -(LINES > 10 ? LINES - 8 : 1)); }
static int page_down(struct vs_top_ui *ui) { return select_row(ui, LINES > 10 ? LINES - 8 : 1); }
static int home(struct vs_top_ui *ui) { return select_row(ui, -(long)ui->table.nr); }
static int end(struct vs_top_ui *ui) { return select_row(ui, (long)ui->table.nr); }

static int show_view(struct vs_top_ui *ui, enum vs_top_view v)
{
	if (ui->view != v) {
		ui->view = v;
		ui->selected = ui->scroll = 0;
		ui->selected_tid = 0;
	}
	return VS_TOP_REDRAW | VS_TOP_REFRESH;
}

static int next_view(struct vs_top_ui *ui)
{
	return show_view(ui, (ui->view + 1) % VS_TOP_NR_VIEWS);
}

static int sort_left(struct vs_top_ui *ui)
{
	int n = ui->table.ncols ? ui->table.ncols : 1;

	ui->sort_col[ui->view] = (ui->sort_col[ui->view] + n - 1) % n;
	return VS_TOP_REDRAW | VS_TOP_REFRESH;
}

static int sort_right(struct vs_top_ui *ui)
{
	int n = ui->table.ncols ? ui->table.ncols : 1;

	ui->sort_col[ui->view] = (ui->sort_col[ui->view] + 1) % n;
	return VS_TOP_REDRAW | VS_TOP_REFRESH;
}

static int invert(struct vs_top_ui *ui)
{
	ui->ascending[ui->view] = !ui->ascending[ui->view];
	return VS_TOP_REDRAW | VS_TOP_REFRESH;
}

static int prompt(struct vs_top_ui *ui, enum vs_top_prompt p)
{
	ui->prompt = p;
	ui->input[0] = '\0';
	if (p == VS_TOP_PROMPT_FILTER)
		snprintf(ui->input, sizeof(ui->input), "%s", ui->filter);
	return VS_TOP_REDRAW;
}

static int filter_prompt(struct vs_top_ui *ui) { return prompt(ui, VS_TOP_PROMPT_FILTER); }
static int delay_prompt(struct vs_top_ui *ui) { return prompt(ui, VS_TOP_PROMPT_DELAY); }
static int flame_prompt(struct vs_top_ui *ui) { return prompt(ui, VS_TOP_PROMPT_FLAME); }

static int pause_(struct vs_top_ui *ui)
{
	ui->paused = !ui->paused;
	snprintf(ui->message, sizeof(ui->message), "%s", ui->paused ? "paused: p resumes" : "");
	return VS_TOP_REDRAW;
}

static int reset(struct vs_top_ui *ui)
{
	snprintf(ui->message, sizeof(ui->message), "cumulative figures reset");
	return VS_TOP_RESET | VS_TOP_REDRAW;
}

static int help(struct vs_top_ui *ui)
{
	ui->help = 1;
	return VS_TOP_REDRAW;
}

static int details(struct vs_top_ui *ui)
{
	return ui->table.nr ? VS_TOP_DETAILS | VS_TOP_REDRAW : 0;
}

static int quit(struct vs_top_ui *ui)
{
	(void)ui;
	return VS_TOP_QUIT;
}

static int redraw(struct vs_top_ui *ui)
{
	(void)ui;
	clearok(curscr, TRUE);
	return VS_TOP_REDRAW;
}

#define VIEW_HANDLER(fn, v) \
	static int fn(struct vs_top_ui *ui) { return show_view(ui, v); }
VIEW_HANDLER(v_threads, VS_TOP_THREADS)
VIEW_HANDLER(v_domains, VS_TOP_DOMAINS)
VIEW_HANDLER(v_locks, VS_TOP_LOCKS)
VIEW_HANDLER(v_rpc, VS_TOP_RPC)
VIEW_HANDLER(v_dbus, VS_TOP_DBUS)
VIEW_HANDLER(v_forks, VS_TOP_FORKS)
VIEW_HANDLER(v_stalls, VS_TOP_STALLS)

static const struct {
	int key;
	int (*fn)(struct vs_top_ui *ui);
} bindings[] = {
	{ 'q', quit },       { 'Q', quit },         { 27, quit },
	{ 'h', help },       { '?', help },
	{ KEY_UP, up },      { 'k', up },           { KEY_DOWN, down },   { 'j', down },
	{ KEY_PPAGE, page_up }, { KEY_NPAGE, page_down }, { KEY_HOME, home }, { KEY_END, end },
	{ '<', sort_left },  { ',', sort_left },    { '>', sort_right },  { '.', sort_right },
	{ 'i', invert },     { '/', filter_prompt },       { 'p', pause_ },      { ' ', pause_ },
	{ 'r', reset },      { 'd', delay_prompt },        { 'F', flame_prompt },
	{ '\n', details },   { '\r', details },     { KEY_ENTER, details },
	{ '\t', next_view }, { 12 /* Ctrl-L */, redraw },
	{ '1', v_threads },  { '2', v_domains },    { '3', v_locks },     { '4', v_rpc },
	{ '5', v_dbus },     { '6', v_forks },      { '7', v_stalls },
	{ KEY_F(1), v_threads }, { KEY_F(2), v_domains }, { KEY_F(3), v_locks },
	{ KEY_F(4), v_rpc },     { KEY_F(5), v_dbus },    { KEY_F(6), v_forks },
	{ KEY_F(7), v_stalls },
	{ 't', v_threads },  { 'T', v_threads },    { 'D', v_domains },   { 'l', v_locks },
	{ 'L', v_locks },    { 'R', v_rpc },        { 'b', v_dbus },      { 'B', v_dbus },
	{ 'f', v_forks },    { 's', v_stalls },     { 'S', v_stalls },
};

/* Typing at a prompt: Enter accepts, Esc cancels. */
static int prompt_key(struct vs_top_ui *ui, int key)
{
	size_t n = strlen(ui->input);

	if (key == 27) {
		ui->prompt = VS_TOP_NO_PROMPT;
		return VS_TOP_REDRAW;
	}
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (n)
			ui->input[n - 1] = '\0';
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		enum vs_top_prompt p = ui->prompt;

		ui->prompt = VS_TOP_NO_PROMPT;
		if (p == VS_TOP_PROMPT_FILTER) {
			snprintf(ui->filter, sizeof(ui->filter), "%s", ui->input);
			ui->selected = ui->scroll = 0;
			return VS_TOP_REDRAW | VS_TOP_REFRESH;
		}
		if (p == VS_TOP_PROMPT_DELAY) {
			double d = strtod(ui->input, NULL);

			if (d < 0.1 || d > 3600) {
				snprintf(ui->message, sizeof(ui->message),
					 "invalid delay '%s': expected 0.1 to 3600 seconds", ui->input);
				return VS_TOP_REDRAW;
			}
			ui->delay_s = d;
			snprintf(ui->message, sizeof(ui->message), "refresh every %.1f s", d);
			return VS_TOP_REDRAW | VS_TOP_DELAY;
		}
		snprintf(ui->flame_kind, sizeof(ui->flame_kind), "%s",
			 ui->input[0] == 'o' ? "off" : "cpu");
		return VS_TOP_REDRAW | VS_TOP_FLAME;
	} else if (isprint(key) && n + 1 < sizeof(ui->input)) {
		ui->input[n] = (char)key;
		ui->input[n + 1] = '\0';
	}
	return VS_TOP_REDRAW;
}

int vs_top_ui_key(struct vs_top_ui *ui, int key)
{
	if (key == KEY_RESIZE)
		return VS_TOP_REDRAW;
	if (ui->prompt != VS_TOP_NO_PROMPT)
		return prompt_key(ui, key);
	/* Any key leaves the help or the details (q still quits). */
	if (ui->help || ui->details) {
		ui->help = ui->details = 0;
		if (key != 'q')
			return VS_TOP_REDRAW;
	}
	ui->message[0] = ui->paused ? ui->message[0] : '\0';
	for (size_t i = 0; i < VS_ARRAY_SIZE(bindings); i++)
		if (bindings[i].key == key)
			return bindings[i].fn(ui);
	return 0;
}
