"""HTTP endpoints of the photo upload flow (`/light/photos/`)."""
from flask.views import MethodView

from ..web import openapi
from ..web.auth import SECURITY, authenticate, current_caller
from ..web.blueprint import Blueprint
from ..web.pagination import cursor_body, page_body
from . import cursors, finalize, lifecycle, multipart, presenter, services
from .schemas import (MultipartStartSchema, MultipartStatusSchema, MultipartUploadSchema,
                      PartNumbersSchema, PartUrlsSchema, PhotoCreatedSchema, PhotoCreateSchema,
                      PhotoDetailSchema, PhotoListQuerySchema, PhotoPageSchema, PhotoSchema,
                      PhotoUpdateSchema, UploadPolicySchema)

blp = Blueprint("photos", __name__, url_prefix="/light/photos", description="Photos and their uploads.")
blp.before_request(authenticate)


@blp.route("/")
class Photos(MethodView):
    @blp.arguments(PhotoListQuerySchema, location="query")
    @blp.response(200, PhotoPageSchema)
    @blp.error_responses(400, 401, 429, 503)
    @blp.doc(security=SECURITY, operationId="listPhotos")
    def get(self, args):
        """List uploaded photos visible to the caller"""
        page, page_size, after = args.pop("page"), args.pop("page_size"), args.pop("cursor", None)
        if after is not None:
            photos, more = services.list_photos_after(current_caller(), args, after, page_size)
            return cursor_body(presenter.listed(photos), cursors.encode(photos[-1]) if more else None)
        count, photos = services.list_photos(current_caller(), args, page, page_size)
        more = page * page_size < count and photos
        return dict(page_body(count, presenter.listed(photos), page, page_size),
                    next_cursor=cursors.encode(photos[-1]) if more else None)

    @blp.arguments(PhotoCreateSchema, example=openapi.CREATE_EXAMPLE)
    @blp.response(201, PhotoCreatedSchema, example=openapi.CREATED_EXAMPLE)
    @blp.alt_response(200, schema=PhotoCreatedSchema, example=openapi.CREATED_EXAMPLE, success=True,
                      description="A create repeated with a known client_id: the existing photo.")
    @blp.error_responses(400, 401, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="createPhoto")
    def post(self, data):
        """Create a photo (step 1: returns a presigned S3 POST)"""
        photo, created = services.create_photo(current_caller(), data)
        return presenter.created(photo), 201 if created else 200


@blp.route("/<int:photo_id>/")
class PhotoById(MethodView):
    @blp.response(200, PhotoDetailSchema, example=openapi.DETAIL_EXAMPLE)
    @blp.error_responses(401, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="getPhoto")
    def get(self, photo_id):
        """Get one photo, with a download link once uploaded"""
        return presenter.detailed(services.get_photo(current_caller(), photo_id))

    @blp.arguments(PhotoUpdateSchema, example=openapi.UPDATE_EXAMPLE)
    @blp.response(200, PhotoDetailSchema, example=openapi.UPDATED_EXAMPLE)
    @blp.error_responses(400, 401, 404, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="updatePhoto")
    def patch(self, changes, photo_id):
        """Change a photo's name, description, tags, related_to, job or line items"""
        return presenter.detailed(lifecycle.update_photo(current_caller(), photo_id, changes))

    @blp.response(204)
    @blp.error_responses(401, 404, 429, 503)
    @blp.doc(security=SECURITY, operationId="deletePhoto")
    def delete(self, photo_id):
        """Delete a photo (a worker then removes its files from the store)"""
        lifecycle.delete_photo(current_caller(), photo_id)


@blp.route("/<int:photo_id>/uploaded/")
class PhotoUploaded(MethodView):
    @blp.response(200, PhotoSchema, example=openapi.PHOTO_EXAMPLE)
    @blp.error_responses(401, 404, 409, 429, 503)
    @blp.doc(security=SECURITY, operationId="finalizePhotoUpload")
    def put(self, photo_id):
        """Finalize an upload (step 2: the file is in the store)"""
        return presenter.photo(finalize.finalize_upload(current_caller(), photo_id))


@blp.route("/<int:photo_id>/upload-url/")
class PhotoUploadUrl(MethodView):
    @blp.response(200, UploadPolicySchema, example=openapi.UPLOAD_POLICY_EXAMPLE)
    @blp.error_responses(401, 403, 404, 409, 429, 503)
    @blp.doc(security=SECURITY, operationId="renewUploadUrl")
    def post(self, photo_id):
        """Get a fresh presigned POST for a pending photo's file (its creator only)"""
        return presenter.upload_policy(services.photo_to_upload(current_caller(), photo_id))


@blp.route("/<int:photo_id>/multipart/")
class PhotoMultipart(MethodView):
    @blp.response(200, MultipartStatusSchema)
    @blp.error_responses(401, 403, 404, 409, 429, 503)
    @blp.doc(security=SECURITY, operationId="getMultipartUpload")
    def get(self, photo_id):
        """The parts of a resumable upload the store has received (read it to resume)"""
        return presenter.multipart_status(*multipart.upload_status(current_caller(), photo_id))

    @blp.arguments(MultipartStartSchema)
    @blp.response(201, MultipartUploadSchema)
    @blp.alt_response(200, schema=MultipartUploadSchema, success=True,
                      description="The upload already open for this size.")
    @blp.error_responses(400, 401, 403, 404, 409, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="startMultipartUpload")
    def post(self, data, photo_id):
        """Start a resumable upload of a pending photo's file in parts (its creator only)"""
        photo, created = multipart.start_upload(current_caller(), photo_id, data["size"])
        return presenter.multipart_upload(photo), 201 if created else 200

    @blp.response(204)
    @blp.error_responses(401, 403, 404, 409, 429, 503)
    @blp.doc(security=SECURITY, operationId="abortMultipartUpload")
    def delete(self, photo_id):
        """Abort a resumable upload: its parts are removed, the photo stays pending"""
        multipart.abort_upload(current_caller(), photo_id)


@blp.route("/<int:photo_id>/multipart/parts/")
class PhotoMultipartParts(MethodView):
    @blp.arguments(PartNumbersSchema)
    @blp.response(200, PartUrlsSchema)
    @blp.error_responses(400, 401, 403, 404, 409, 413, 415, 429, 503)
    @blp.doc(security=SECURITY, operationId="getMultipartPartUrls")
    def post(self, data, photo_id):
        """Presigned PUT URLs for parts of a resumable upload (fresh ones on every call)"""
        return presenter.part_urls(*multipart.parts_to_send(current_caller(), photo_id, data["part_numbers"]))
