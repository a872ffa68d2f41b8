from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import config.converters  # noqa: F401 - registers <id:…>
from search.api import catalog_write, feedback, views

urlpatterns = [
    path("v1/search/", views.SearchView.as_view(), name="api-search"),
    path("v1/search/<str:query_id>/", views.SearchResultView.as_view(), name="api-search-result"),
    path("v1/materials/", views.MaterialListView.as_view(), name="api-materials"),
    path(
        "v1/materials/<id:material_id>/",
        views.MaterialDetailView.as_view(),
        name="api-material",
    ),
    path(
        "v1/materials/<id:material_id>/similar/",
        views.MaterialSimilarView.as_view(),
        name="api-material-similar",
    ),
    path(
        "v1/materials/<id:material_id>/flag/",
        feedback.MaterialFlagView.as_view(),
        name="api-material-flag",
    ),
    path("v1/feedback/", feedback.FeedbackView.as_view(), name="api-feedback"),
    path(
        "v1/catalogs/<int:catalog_id>/materials/",
        catalog_write.CatalogMaterialsView.as_view(),
        name="api-catalog-materials",
    ),
    path(
        "v1/catalogs/<int:catalog_id>/materials/bulk/",
        catalog_write.CatalogBulkView.as_view(),
        name="api-catalog-bulk",
    ),
    path(
        "v1/catalogs/<int:catalog_id>/materials/<int:material_id>/",
        catalog_write.CatalogMaterialView.as_view(),
        name="api-catalog-material",
    ),
    path(
        "v1/catalog-jobs/<int:job_id>/",
        catalog_write.CatalogJobView.as_view(),
        name="api-catalog-job",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
