from faceedit.cli.main import main


def test_make_status_export_with_a_bundled_direction(tmp_path, capsys):
    out = tmp_path / "older"
    args = ["dataset", "make", "--direction", "age-orth-gender", "--seeds", "0-5", "--shard-seeds", "4",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    assert "6 pairs kept" in capsys.readouterr().out
    assert main(args) == 0  # resumes: nothing left to do
    assert "0 shards written (2 already done)" in capsys.readouterr().out
    assert main(["dataset", "status", str(out)]) == 0
    assert "2/2 shards, 6 pairs" in capsys.readouterr().out
    assert main(["dataset", "export", str(out), "--out", str(tmp_path / "ab")]) == 0
    assert len(list((tmp_path / "ab" / "B").glob("*.png"))) == 6


def test_filtered_make_and_bad_arguments(tmp_path, capsys):
    out = tmp_path / "filtered"
    assert main(["dataset", "make", "--direction", "age", "--seeds", "0-3", "--classifier", "synthfaces-labeler",
                 "--min-change", "0.05", "--max-other", "gender=0.2", "--out", str(out), "--no-progress"]) == 0
    assert "rejected" in capsys.readouterr().out
    for bad, message in ((["--alpha", "1"], "two numbers"), (["--seeds", "5-1"], "END must not"),
                         (["--max-other", "gender"], "ATTR=LIMIT")):
        assert main(["dataset", "make", "--direction", "age", "--out", str(tmp_path / "x"), *bad]) == 2
        assert message in capsys.readouterr().err
