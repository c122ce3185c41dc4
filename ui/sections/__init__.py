"""One module per page's extra sections: the widgets, calls into core and chart placement that
a page adds under its main comparison. Pages import the module of their own topic only."""
