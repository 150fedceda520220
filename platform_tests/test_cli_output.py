from rich.table import Table

from dataplatform.cli import output


def test_a_piped_table_keeps_each_row_and_path_on_one_line(capsys) -> None:
    path = "/data/" + "/".join(f"folder_{index}" for index in range(30)) + "/2026-03-04.parquet"
    table = Table("asset", "path")
    table.add_row("cleaned/listens", path)

    output._console().print(table)

    assert any(path in line for line in capsys.readouterr().out.splitlines())
