import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import pipelines
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = pipelines.run("mnist_mlp", epochs=1, subset=512, widths=(32,), verbose=0,
                           strategy=strategy, batch_size=64)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "strategy": result.report.config["strategy"],
                      "accuracy": result.metrics["accuracy"],
                      "export": str(result.export_path)}))
""")


def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["replicas"] == 2 and outcome["strategy"] == "MirroredStrategy"
    assert outcome["accuracy"] > 0.2
    assert Path(outcome["export"], "saved_model.pb").exists()
