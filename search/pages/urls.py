from django.urls import path

import config.converters  # noqa: F401 - registers <id:…>
from search.pages import feedback, material, views

urlpatterns = [
    path("", views.search_page, name="search"),
    path("search/results/", views.search_results_partial, name="search-results"),
    path("materials/<id:material_id>/", material.material_detail, name="material-detail"),
    path("materials/<id:material_id>/flag/", feedback.material_flag, name="material-flag"),
    path("search/feedback/", feedback.feedback_vote, name="search-feedback"),
]
