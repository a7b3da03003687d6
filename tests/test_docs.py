"""The docstring examples and the README's quick start run."""

import doctest
import re
from pathlib import Path

import sgdclf._classifier


def test_docstring_examples():
    result = doctest.testmod(sgdclf._classifier, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_quick_start():
    readme = Path(__file__).parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    assert blocks
    namespace = {}
    exec(compile(blocks[0], "README quick start", "exec"), namespace)
    assert (
        0.9 < namespace["pipe"].score(namespace["X_test"], namespace["y_test"]) <= 1.0
    )
    assert namespace["search"].best_params_["sgdlogisticclassifier__alpha"] in (
        1e-5,
        1e-4,
        1e-3,
    )
    for name in ("softmax", "adagrad"):
        assert namespace[name].score(namespace["X_test"], namespace["y_test"]) > 0.93
