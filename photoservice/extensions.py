"""Unbound extension instances; `create_app` binds them with `init_app`."""
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Named constraints: migrations refer to every index and constraint by a stable name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Rows stay readable after commit: a response is built from what was just written,
# without a second SELECT.
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION),
               session_options={"expire_on_commit": False})
migrate = Migrate()
api = Api()
