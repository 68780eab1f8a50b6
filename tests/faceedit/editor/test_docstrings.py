"""The editor's docstring examples run as written."""

import doctest

import faceedit.editor.pipeline


def test_face_editor_docstring_examples():
    failures, tried = doctest.testmod(faceedit.editor.pipeline, optionflags=doctest.ELLIPSIS)
    assert tried >= 5 and failures == 0
