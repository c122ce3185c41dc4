"""Exploding page, fewer-layers section (EG4): the run at decreasing depth, a table per depth."""

from tests.app_helpers import table_with

PAGE = "pages/exploding.py"


def test_fewer_layers_section_runs_and_tabulates_each_depth(app_test):
    at = app_test(PAGE).run()
    at.button(key="exploding.depth.run").click().run()
    assert not at.exception, at.exception
    table = table_with(at, "blew_up")
    depths = list(table["depth"])
    assert depths == sorted(depths, reverse=True) and depths[-1] == 1 and len(depths) >= 2
    assert (table["blew_up"] <= table["did_not_train"]).all()  # a blow-up is one way not to train
    assert (table["runs"] == 2).all()
