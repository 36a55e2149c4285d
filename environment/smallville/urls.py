"""Smallville URLs; the original project's page paths are kept (docs/frontend_api.md).

Simulation names cannot contain "/" (services refuse them), so `<str:sim>`, which
never matches a "/" (Django decodes %2F before matching), turns any slash trick into
a 404. Persona names may contain "/" (`</script>` does), so the persona part is a
`<path:name>`; it is only ever looked up in the database, never used as a path.
"""

from django.urls import include, path

from environment.smallville import eval_views, views

urlpatterns = [
    path("simulator_home", views.simulator_home, name="simulator_home"),
    path("simulator_home/<str:sim>/", views.simulator_home, name="simulator_sim"),
    path("simulator_home/<str:sim>/control/", views.control, name="simulator_control"),
    path("replay/<str:sim>/<int:step>/", views.replay, name="replay"),
    path("demo/<str:sim>/<int:step>/<int:speed>/", views.demo, name="demo"),
    path("replay_persona_state/<str:sim>/<int:step>/<path:name>/", views.persona_state, name="persona_state"),
    path("sim/<str:sim>/log/", views.log, name="sim_log"),
    path("sim/<str:sim>/plots/", views.plots, name="sim_plots"),
    path("sim/<str:sim>/eval/", include(eval_views)),
    path("sim/<str:sim>/demo/make/", views.make_demo, name="sim_make_demo"),
    path("sim/<str:sim>/demo/status/", views.demo_status, name="sim_demo_status"),
    path("sims/fork/", views.fork, name="sim_fork"),
    path("sims/<str:sim>/delete/", views.delete, name="sim_delete"),
    path("api/sim/<str:sim>/", views.api_sim, name="api_sim"),
    path("api/sim/<str:sim>/frames/", views.api_frames, name="api_frames"),
    path("api/sim/<str:sim>/demo/", views.api_demo, name="api_demo"),
    path("api/sim/<str:sim>/persona/<path:name>/", views.api_persona, name="api_persona"),
    path("sprites/<path:name>/<str:kind>.png", views.sprite, name="sprite"),
]
