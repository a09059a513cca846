"""SQL storage (SQLAlchemy async): SQLite for one process, PostgreSQL for several.

await upgrade_database(url)          # once at start
uow = SqlUnitOfWork(url)             # implements core.ports.storage.UnitOfWork
async with uow() as tx: ...
await uow.close()
"""

from switchboard.adapters.storage.migrate import upgrade_database
from switchboard.adapters.storage.uow import SqlTx, SqlUnitOfWork

__all__ = ["SqlTx", "SqlUnitOfWork", "upgrade_database"]
