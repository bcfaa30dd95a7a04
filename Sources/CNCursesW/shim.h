// ncursesw (Debian libncursesw5-dev) with the wide-character API declared, plus functions for the
// macros Swift cannot import. Only HatTUI/Terminal.swift imports this module.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

static inline int hs_lines(void) { return LINES; }
static inline int hs_cols(void) { return COLS; }
static inline int hs_colors(void) { return COLORS; }
static inline int hs_color_pairs(void) { return COLOR_PAIRS; }
static inline WINDOW *hs_stdscr(void) { return stdscr; }
static inline mmask_t hs_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t hs_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t hs_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t hs_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline attr_t hs_a_bold(void) { return A_BOLD; }
static inline attr_t hs_a_reverse(void) { return A_REVERSE; }
static inline attr_t hs_a_underline(void) { return A_UNDERLINE; }
static inline attr_t hs_a_dim(void) { return A_DIM; }

/// Reads the pending mouse event: 1 and (x, y, buttons) on success, 0 otherwise.
static inline int hs_getmouse(int *x, int *y, mmask_t *bstate) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return 0;
    *x = ev.x; *y = ev.y; *bstate = ev.bstate;
    return 1;
}

/// Puts a row of wide characters with attributes and extended colour pairs (through setcchar's
/// opts pointer, so pair numbers beyond the attribute field's 8 bits work): chars[i], attrs[i],
/// pairs[i] for i < n starting at (y, x) of `win`. One call per row keeps the Swift/C crossing cheap.
static inline int hs_put_row(WINDOW *win, int y, int x, const wchar_t *chars, const attr_t *attrs,
                             const int *pairs, int n) {
    int last = ERR;
    for (int i = 0; i < n; i++) {
        cchar_t cc;
        wchar_t wch[2] = { chars[i], 0 };
        int pair = pairs[i];
        if (setcchar(&cc, wch, attrs[i], 0, &pair) != OK) continue;
        // The bottom-right cell of the screen makes add_wch fail (scrolling is off); that is fine.
        last = mvwadd_wch(win, y, x + i, &cc);
    }
    return last;
}

/// 1 when the terminal can move the cursor (terminfo `cup`); `dumb` and friends cannot.
static inline int hs_can_address_cursor(void) {
    char *s = tigetstr("cup");
    return s != 0 && s != (char *)-1;
}
