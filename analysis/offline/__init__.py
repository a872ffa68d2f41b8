"""The offline model backends' machinery: shipped weights, ONNX sessions, preprocessing,
pixel statistics and the material-type classifier. The providers in `analysis.providers.offline_*`
are thin façades over it. Nothing here imports torch (only `export`, a development step)."""
