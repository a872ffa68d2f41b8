from django.urls import path

import config.converters  # noqa: F401 - registers <id:…>
from search.pages import views

urlpatterns = [
    path("", views.search_page, name="search"),
    path("search/results/", views.search_results_partial, name="search-results"),
    path("materials/<id:material_id>/", views.material_detail, name="material-detail"),
]
