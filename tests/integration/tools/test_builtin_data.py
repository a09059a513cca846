"""query_data and column_stats over inline CSV/JSON and uploaded files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.tools.builtin.base import ToolFailure
from switchboard.adapters.tools.builtin.data import QueryData, TableLoader
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.tools import ToolContext

ALICE, BOB = ToolContext(user_id=1), ToolContext(user_id=2)
SALES_CSV = "city,product,amount\nBerlin,tea,12.5\nParis,coffee,30\nBerlin,coffee,7.5\nRome,,\nParis,tea,10\n"
SALES_JSON = (
    '[{"city": "Berlin", "amount": 12.5, "tags": ["a"]}, {"city": "Paris", "amount": 30, "open": true},'
    ' {"city": "Rome", "amount": null}]'
)


class InMemoryUserFiles:
    """Uploaded files keyed by owner, answering NotFound for anyone else's, as the file service does."""

    def __init__(self) -> None:
        self.files = {
            (1, "f-csv"): ("sales.csv", "text/csv", ("\ufeff" + SALES_CSV).encode()),
            (1, "f-json"): ("rows.json", "application/json", SALES_JSON.encode()),
            (1, "f-big"): ("big.csv", "text/csv", b"a\n" + b"1\n" * 600),
        }

    async def read_user_file(self, user_id: int, file_id: str) -> tuple[str, str, bytes]:
        try:
            return self.files[(user_id, file_id)]
        except KeyError:
            raise NotFound("file not found") from None


@pytest.fixture
async def host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(files=InMemoryUserFiles(), max_data_file_bytes=1000)
    yield host
    await host.close()


async def test_sql_over_inline_csv_with_typed_columns(host) -> None:
    sql = "SELECT city, SUM(amount) AS total FROM data GROUP BY city ORDER BY total DESC"
    outcome = await host.call("query_data", {"sql": sql, "data": SALES_CSV}, ALICE)
    assert not outcome.is_error, outcome.content
    assert outcome.data["columns"] == ["city", "total"]
    assert outcome.data["rows"] == [["Paris", 40.0], ["Berlin", 20.0], ["Rome", None]]
    assert outcome.content.startswith("city,total\nParis,40.0\nBerlin,20.0\nRome,\n(3 row(s))")


@pytest.mark.parametrize(
    "data",
    [
        SALES_JSON,
        '{"data": ' + SALES_JSON + "}",  # a wrapper object holding one list
        '{"city": "Berlin", "amount": 12.5}\n{"city": "Paris", "amount": 30}\n{"city": "Rome"}',  # JSON Lines
        '[["city", "amount"], ["Berlin", 12.5], ["Paris", 30], ["Rome", null]]',  # header row first
    ],
)
async def test_sql_over_inline_json_shapes(host, data: str) -> None:
    sql = "SELECT city FROM data WHERE amount > 20"
    outcome = await host.call("query_data", {"sql": sql, "data": data}, ALICE)
    assert not outcome.is_error, outcome.content
    assert outcome.data["rows"] == [["Paris"]]


async def test_nested_json_values_become_json_text(host) -> None:
    sql = 'SELECT tags, "open" FROM data ORDER BY rowid'
    outcome = await host.call("query_data", {"sql": sql, "data": SALES_JSON}, ALICE)
    assert outcome.data["rows"] == [['["a"]', None], [None, 1], [None, None]]


async def test_sql_over_an_uploaded_file(host) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT COUNT(*) AS n FROM data", "file_id": "f-csv"}, ALICE)
    assert not outcome.is_error and outcome.data["rows"] == [[5]]
    outcome = await host.call("query_data", {"sql": "SELECT city FROM data LIMIT 1", "file_id": "f-json"}, ALICE)
    assert outcome.data["rows"] == [["Berlin"]]


async def test_other_users_files_are_not_found(host) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT 1", "file_id": "f-csv"}, BOB)
    assert outcome.is_error and "'f-csv' not found" in outcome.content


async def test_oversized_files_are_refused(host) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT 1", "file_id": "f-big"}, ALICE)
    assert outcome.is_error and "larger than 1000 bytes" in outcome.content


@pytest.mark.parametrize("sources", [{}, {"data": "a\n1\n", "file_id": "f-csv"}])
async def test_exactly_one_source_is_required(host, sources: dict[str, str]) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT 1", **sources}, ALICE)
    assert outcome.is_error and "exactly one of 'data'" in outcome.content


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM data",
        "DROP TABLE data",
        "UPDATE data SET amount = 0",
        "INSERT INTO data (city) VALUES ('x')",
        "CREATE TABLE other (x)",
        "ATTACH DATABASE '/tmp/switchboard-attack.db' AS other",
        "PRAGMA table_info(data)",
    ],
)
async def test_only_reads_are_allowed(host, sql: str) -> None:
    outcome = await host.call("query_data", {"sql": sql, "data": SALES_CSV}, ALICE)
    assert outcome.is_error and "only a read-only SELECT" in outcome.content, outcome.content


async def test_several_statements_and_bad_sql_are_errors(host) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT 1; DROP TABLE data", "data": SALES_CSV}, ALICE)
    assert outcome.is_error and "one statement at a time" in outcome.content
    outcome = await host.call("query_data", {"sql": "SELECT nope FROM data", "data": SALES_CSV}, ALICE)
    assert outcome.is_error and "no such column: nope" in outcome.content


async def test_row_limit(host) -> None:
    data = "n\n" + "".join(f"{i}\n" for i in range(30))
    outcome = await host.call("query_data", {"sql": "SELECT n FROM data", "data": data, "max_rows": 5}, ALICE)
    assert len(outcome.data["rows"]) == 5 and outcome.data["truncated"]
    assert "more rows exist, only the first 5 are shown" in outcome.content


async def test_runaway_query_is_stopped_at_its_deadline() -> None:
    tool = QueryData(TableLoader(None, 1000), query_timeout_s=0.3)
    sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
    with pytest.raises(ToolFailure, match=r"longer than 0\.3s"):
        await tool.run({"sql": sql, "data": "a\n1\n"}, ALICE)


async def test_invalid_json_is_an_error(host) -> None:
    outcome = await host.call("query_data", {"sql": "SELECT 1", "data": "[{broken", "format": "json"}, ALICE)
    assert outcome.is_error and "not valid JSON" in outcome.content


async def test_column_stats_for_numbers(host) -> None:
    outcome = await host.call("column_stats", {"column": "Amount", "data": SALES_CSV}, ALICE)
    assert not outcome.is_error, outcome.content
    stats = outcome.data
    assert (stats["column"], stats["type"], stats["count"], stats["nulls"], stats["distinct"]) == (
        "amount", "number", 5, 1, 4,
    )  # fmt: skip
    assert (stats["min"], stats["max"], stats["sum"], stats["mean"], stats["median"]) == (7.5, 30.0, 60.0, 15.0, 11.25)
    assert round(stats["stdev"], 3) == 10.206  # sample standard deviation
    assert "median: 11.25" in outcome.content


async def test_column_stats_for_text_from_a_file(host) -> None:
    outcome = await host.call("column_stats", {"column": "city", "file_id": "f-csv"}, ALICE)
    stats = outcome.data
    assert stats["type"] == "text" and stats["distinct"] == 3
    assert stats["top_values"][:2] == [["Berlin", 2], ["Paris", 2]]
    assert (stats["min_length"], stats["max_length"]) == (4, 6)


async def test_column_stats_names_the_columns_when_one_is_missing(host) -> None:
    outcome = await host.call("column_stats", {"column": "price", "data": SALES_CSV}, ALICE)
    assert outcome.is_error and "no column 'price'; the columns are: city, product, amount" in outcome.content
