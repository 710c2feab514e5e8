from alembic import context

import loket.models  # noqa: F401  (registers every block's tables on Base.metadata)
from loket.db import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on, SQLite would
        # first delete every row that refers to it (ON DELETE CASCADE). Off while migrating only: the
        # pragma cannot change inside a transaction, and the pooled connection must get it back.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
            )
            context.run_migrations()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
