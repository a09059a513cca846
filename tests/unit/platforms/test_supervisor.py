"""The supervisor restarts a platform whose connection ends or fails, with growing pauses, and
keeps the others running; close() stops them all."""

import asyncio

from switchboard.adapters.push.lease import InMemoryLeases
from switchboard.platforms._shared.leadership import Leadership
from switchboard.platforms._shared.messages import Reply, Target
from switchboard.platforms._shared.supervisor import Backoff, PlatformState, Supervisor
from tests.support.fakes import eventually


class FlakyPlatform:
    """Fails `failures` times, then connects and stays up until told to drop."""

    exclusive = False

    def __init__(self, failures: int) -> None:
        self.state = PlatformState("flaky", "test")
        self.failures = failures
        self.runs = 0
        self.up = asyncio.Event()
        self.drop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise ConnectionRefusedError("nobody listening")
        self.state.set("connected")
        self.up.set()
        await self.drop.wait()
        self.drop.clear()

    async def deliver(self, target: Target, reply: Reply) -> None:
        return None

    async def close(self) -> None:
        return None


def test_backoff_doubles_up_to_the_maximum() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


async def test_a_failing_platform_is_retried_and_reports_why() -> None:
    flaky = FlakyPlatform(failures=2)
    supervisor = Supervisor({"flaky": flaky}, {"flaky": Backoff(0.001, 0.01)})
    await supervisor.start()
    await asyncio.wait_for(flaky.up.wait(), 10)
    assert flaky.runs == 3
    assert supervisor.states()[0].status == "connected"
    flaky.drop.set()  # the connection ends: reported, then run again
    await eventually(lambda: flaky.runs == 4)
    await supervisor.close()
    assert supervisor.states()[0].status == "stopped"


async def test_the_retry_state_names_the_error() -> None:
    flaky = FlakyPlatform(failures=10**6)
    supervisor = Supervisor({"flaky": flaky}, {"flaky": Backoff(60.0, 60.0)})
    await supervisor.start()
    await eventually(lambda: flaky.state.status == "retrying")
    assert "ConnectionRefusedError: nobody listening" in (flaky.state.detail or "")
    await supervisor.close()


async def test_platforms_added_and_removed_while_it_runs() -> None:
    supervisor = Supervisor({})
    await supervisor.start()
    late = FlakyPlatform(failures=0)
    supervisor.add("late", late, Backoff(0.001, 0.01))  # started at once: the supervisor runs
    await asyncio.wait_for(late.up.wait(), 10)
    await supervisor.remove("late")
    assert late.state.status == "stopped" and supervisor.states() == []
    await supervisor.remove("late")  # nothing to remove: no error
    await supervisor.close()


class DialledPlatform(FlakyPlatform):
    """A connection dialled out (Telegram polling): one worker at a time."""

    exclusive = True


async def test_a_dialled_platform_runs_in_the_worker_holding_its_lease_and_moves_when_it_stops() -> None:
    table: dict[str, tuple[str, float]] = {}  # two workers' leases on one store
    first, second = DialledPlatform(failures=0), DialledPlatform(failures=0)
    one = Supervisor({"tg": first}, {}, Leadership(InMemoryLeases("wrk_one:1", table), 0.3))
    two = Supervisor({"tg": second}, {}, Leadership(InMemoryLeases("wrk_two:1", table), 0.3))
    await one.start()
    await asyncio.wait_for(first.up.wait(), 10)
    await two.start()
    await eventually(lambda: second.state.status == "standby")
    assert (first.runs, second.runs) == (1, 0) and "another worker" in (second.state.detail or "")

    await one.close()  # a stopping worker hands the lease over
    await asyncio.wait_for(second.up.wait(), 10)
    assert second.state.status == "connected"
    await two.close()
    assert table == {}
