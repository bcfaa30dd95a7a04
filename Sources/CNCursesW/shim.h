// ncursesw (Debian libncursesw5-dev) with the wide-character API declared, plus functions for the
// macros Swift cannot import.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

static inline int hs_color_pair(int n) { return COLOR_PAIR(n); }
static inline int hs_lines(void) { return LINES; }
static inline int hs_cols(void) { return COLS; }
static inline mmask_t hs_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t hs_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t hs_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t hs_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t hs_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline mmask_t hs_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
