import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pipelines
from kdl import runner
from kdl.errors import ConfigError

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


WORKER = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": sys.argv[1].split(",")},
                                          "task": {"type": "worker", "index": int(sys.argv[2])}})
    import keras, numpy as np, tensorflow as tf
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(64), epochs=1, verbose=0)
    print("fitted")
""")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.xfail(strict=True, reason="keras-team/keras#20585: Keras 3 cannot fit under "
                   "MultiWorkerMirroredStrategy; when this passes, enable kdl's multi-worker runs")
def test_keras_fits_with_two_workers_on_loopback(tmp_path):
    cluster = ",".join(f"127.0.0.1:{port}" for port in _free_ports(2))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, cluster, str(index)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for index in range(2)]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    assert all("fitted" in out for out, _ in outputs), outputs[0][1][-2000:]


def test_multi_worker_runs_are_refused_before_any_data_with_the_reason(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("data was loaded")

    monkeypatch.setattr(runner, "load_data", never)
    with pytest.raises(ConfigError, match=r"multi-worker training is not available: Keras .* "
                                          r"keras-team/keras#20585"):
        pipelines.run("mnist_mlp", strategy="multi_worker_mirrored", epochs=1, verbose=0)
    with pytest.raises(ConfigError, match=r"unknown strategy 'tpu'; .* default, mirrored"):
        pipelines.run("mnist_mlp", strategy="tpu", epochs=1, verbose=0)
