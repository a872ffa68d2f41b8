from django.urls import path

from search.pages import views

urlpatterns = [
    path("", views.search_page, name="search"),
    path("search/results/", views.search_results_partial, name="search-results"),
    path("materials/<int:material_id>/", views.material_detail, name="material-detail"),
]
