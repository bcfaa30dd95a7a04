// HatViews: views computed from a Recording. Sources land with the export issue.
