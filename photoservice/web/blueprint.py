"""The Blueprint every resource uses: 400 for bad input, one error shape."""
import json

from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser

from .openapi import response_name


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser with RoofLink's 400 and clear body errors."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        if not req.content_length and not req.data:
            if req.method == "PATCH":  # the document requires its body: a change of nothing
                abort(400, message="A JSON body is required.", errors={"json": ["A JSON body is required."]})
            return core.missing
        if not core.is_json(req.mimetype):
            abort(415, message="Request body must be JSON (Content-Type: application/json).")
        try:
            return core.parse_json(req.get_data(cache=True))
        except json.JSONDecodeError:
            raise
        except RecursionError:
            raise json.JSONDecodeError("Nested too deeply", "{", 0) from None
        except ValueError as error:  # e.g. an integer literal past Python's digit limit
            raise json.JSONDecodeError(str(error), "{", 0) from None

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, message=f"Invalid JSON body: {error.msg}.", errors={"json": [error.msg]})


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema, **kwargs):
        """As flask-smorest's, with the schema made once: webargs instantiates a schema
        class on every request, deep-copying each of its fields."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def error_responses(self, *statuses):
        """Document the error statuses a view can send, each in the `Error` shape."""
        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=response_name(status))(func)
            return func
        return decorator
