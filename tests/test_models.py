"""Models hold stored columns only: what a response adds is built by its resource's presenter."""
import importlib
import pkgutil

import pytest

import photoservice
from photoservice.extensions import db


def mapped_classes():
    """Every model of the service (each of its modules imported, so none is missed)."""
    for module in pkgutil.walk_packages(photoservice.__path__, "photoservice."):
        importlib.import_module(module.name)
    return sorted((mapper.class_ for mapper in db.Model.registry.mappers), key=lambda cls: cls.__name__)


def test_the_models_are_found():
    names = {cls.__name__ for cls in mapped_classes()}
    assert {"Photo", "StoreDeletion", "WebhookEndpoint", "WebhookDelivery"} <= names


@pytest.mark.parametrize("model", mapped_classes(), ids=lambda cls: cls.__name__)
def test_a_model_has_no_attribute_but_its_columns(model):
    mapped = set(model.__mapper__.attrs.keys())
    extra = [name for cls in model.__mro__ if cls.__module__.startswith("photoservice")
             for name, value in vars(cls).items()
             if not name.startswith("_") and name not in mapped
             and not callable(value) and not isinstance(value, (property, classmethod, staticmethod))]
    assert extra == [], f"{model.__name__} keeps {extra}"
