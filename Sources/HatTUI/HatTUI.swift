// HatTUI: the terminal explorer. Sources land with the explorer issue.
