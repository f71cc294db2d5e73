import subprocess
import sys

import hlskit


def test_every_public_name_resolves():
    for name in hlskit.__all__:
        assert getattr(hlskit, name) is not None, name


def test_importing_hlskit_does_not_load_flask_or_the_cloud_sdks():
    # The public API resolves names on first use. (The CLI imports its layers at module level, as
    # tests/test_layers.py requires: about 0.4 s, measured with `python -X importtime -c "import hlskit.cli"`.)
    code = "import sys, hlskit; print(sorted(m for m in ('flask', 'oss2', 'aliyunsdkcore') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
