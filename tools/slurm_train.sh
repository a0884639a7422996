#!/usr/bin/env bash
# SLURM training: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [GPUS] [train.py args]
# GPUS (default 8) tasks in all, GPUS_PER_NODE (default 8) per node; one process per task.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
if [[ "$5" =~ ^[0-9]+$ ]]; then GPUS=$5; PY_ARGS=${@:6}; else GPUS=${GPUS:-8}; PY_ARGS=${@:5}; fi
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
GRES=${GRES:---gres=gpu:${GPUS_PER_NODE}}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    ${GRES} \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$(dirname "$0")/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" --launcher="slurm" ${PY_ARGS}
