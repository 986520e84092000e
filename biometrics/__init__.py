"""Voice biometrics: speaker embeddings, quality gates, normalised scoring, calibration, template encryption.

Entry points: :class:`biometrics.service.VoiceprintEngine` (enrol / verify / passive verification),
:class:`biometrics.crypto.TemplateCipher` (templates at rest), :func:`biometrics.protocol.calibrate`
(``hotline voiceprint calibrate``). Depends only on :mod:`media` within Hotline; torch is imported
only when an embedding backend is instantiated.
"""
