"""The student edition drops exactly the gated solution blocks."""
import json

import pytest

from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.student_edition import count_solutions, strip_solutions, write_student_edition


def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text, outputs=None):
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": outputs or [], "execution_count": 1}


def _notebook():
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        _md("```{exercise} Sum\n:label: ex-sum\n```"),
        _code("def add(a, b):\n    raise NotImplementedError('Exercise: add')"),
        _md("```{solution-start} ex-sum\n:class: dropdown\n```"),
        _code("def add(a, b):\n    return a + b"),
        _md("```{solution-end}\n```"),
        _code("add(1, 2)", outputs=[{"output_type": "execute_result", "data": {"text/plain": "3"}}]),
    ]}


def test_strip_solutions_removes_the_block_and_outputs():
    nb = _notebook()
    student = strip_solutions(nb)
    sources = ["".join(c["source"]) for c in student["cells"]]
    assert len(student["cells"]) == 3
    assert not any("return a + b" in s for s in sources)
    assert any("NotImplementedError" in s for s in sources)
    assert all(c["outputs"] == [] for c in student["cells"] if c["cell_type"] == "code")
    assert count_solutions(nb) == 1 and count_solutions(student) == 0
    assert len(nb["cells"]) == 6  # the input is not modified


def test_unclosed_solution_is_an_error():
    nb = _notebook()
    del nb["cells"][4]
    with pytest.raises(InvalidInputError, match="never closed"):
        strip_solutions(nb)


def test_write_student_edition(tmp_path):
    src = tmp_path / "nb"
    src.mkdir()
    (src / "01_x.ipynb").write_text(json.dumps(_notebook()))
    written = write_student_edition(src, tmp_path / "out")
    assert [p.name for p in written] == ["01_x.ipynb"]
    assert count_solutions(json.loads(written[0].read_text())) == 0
    with pytest.raises(InvalidInputError, match="no .ipynb"):
        write_student_edition(tmp_path / "out" / "empty", tmp_path / "out2")
