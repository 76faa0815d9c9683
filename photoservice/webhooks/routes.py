"""HTTP endpoints of the webhooks API (`/light/webhooks/`): owners only."""
from flask.views import MethodView

from ..web.auth import SECURITY, authenticate, current_caller
from ..web.blueprint import Blueprint
from ..web.pagination import page_body
from . import presenter, services
from .schemas import (DeliveryListQuerySchema, DeliveryPageSchema, WebhookDeliverySchema,
                      WebhookEndpointCreateSchema, WebhookEndpointSchema, WebhookEndpointUpdateSchema,
                      WebhookEndpointWithSecretSchema)

blp = Blueprint("webhooks", __name__, url_prefix="/light/webhooks",
                description="Webhook endpoints and their deliveries (owners only).")
blp.before_request(authenticate)


@blp.before_request
def owners_only():
    """403 for everyone but owners, before a body or an id is looked at."""
    services.check_manager(current_caller())


@blp.route("/")
class Endpoints(MethodView):
    @blp.response(200, WebhookEndpointSchema(many=True))
    @blp.error_responses(401, 403, 429, 503)
    @blp.doc(security=SECURITY, operationId="listWebhookEndpoints")
    def get(self):
        """List the company's webhook endpoints"""
        return presenter.endpoints(services.list_endpoints(current_caller()))

    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointWithSecretSchema)
    @blp.error_responses(400, 401, 403, 409, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="createWebhookEndpoint")
    def post(self, data):
        """Register a webhook endpoint (its signing secret is shown once)"""
        return presenter.with_secret(*services.create_endpoint(current_caller(), data))


@blp.route("/<int:webhook_id>/")
class EndpointById(MethodView):
    @blp.response(200, WebhookEndpointSchema)
    @blp.error_responses(401, 403, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="getWebhookEndpoint")
    def get(self, webhook_id):
        """Get one webhook endpoint"""
        return presenter.endpoint(services.get_endpoint(current_caller(), webhook_id))

    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.error_responses(400, 401, 403, 404, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="updateWebhookEndpoint")
    def patch(self, changes, webhook_id):
        """Change a webhook endpoint's url, events, description or enabled"""
        return presenter.endpoint(services.update_endpoint(current_caller(), webhook_id, changes))

    @blp.response(204)
    @blp.error_responses(401, 403, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="deleteWebhookEndpoint")
    def delete(self, webhook_id):
        """Delete a webhook endpoint and its delivery log"""
        services.delete_endpoint(current_caller(), webhook_id)


@blp.route("/<int:webhook_id>/rotate-secret/")
class EndpointSecret(MethodView):
    @blp.response(200, WebhookEndpointWithSecretSchema)
    @blp.error_responses(401, 403, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="rotateWebhookSecret")
    def post(self, webhook_id):
        """Rotate the signing secret (the old one signs too for 24 hours)"""
        return presenter.with_secret(*services.rotate_endpoint_secret(current_caller(), webhook_id))


@blp.route("/<int:webhook_id>/deliveries/")
class Deliveries(MethodView):
    @blp.arguments(DeliveryListQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    @blp.error_responses(400, 401, 403, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="listWebhookDeliveries")
    def get(self, args, webhook_id):
        """List an endpoint's deliveries, newest first"""
        page, page_size = args["page"], args["page_size"]
        count, deliveries = services.list_deliveries(current_caller(), webhook_id, page, page_size)
        return page_body(count, deliveries, page, page_size)


@blp.route("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/")
class Redelivery(MethodView):
    @blp.response(202, WebhookDeliverySchema)
    @blp.error_responses(401, 403, 404, 409, 429, 503)
    @blp.doc(security=SECURITY, operationId="redeliverWebhookDelivery")
    def post(self, webhook_id, delivery_id):
        """Send a delivery again now, with the same webhook-id"""
        return services.redeliver(current_caller(), webhook_id, delivery_id)
