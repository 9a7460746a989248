#include "nn/process_group.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

#ifdef NIF_WITH_MPI
#include <mpi.h>
#endif

namespace nn {

namespace {

ProcessGroup& world_group() {
  static ProcessGroup group;
  return group;
}

/// The number of processes the launcher started, from the variables OpenMPI, MPICH/Hydra and
/// Slurm's PMI set; 0 when the process was not started by an MPI launcher.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* value = std::getenv(name); value != nullptr) return std::atoi(value);
  return 0;
}

}  // namespace

const ProcessGroup& ProcessGroup::world() { return world_group(); }

#ifdef NIF_WITH_MPI

bool mpi_built() { return true; }

void ProcessGroup::sum(std::span<float> values) const {
  if (distributed()) MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

bool ProcessGroup::any(bool flag) const {
  int value = flag ? 1 : 0;
  if (distributed()) MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return value != 0;
}

void ProcessGroup::barrier() const {
  if (distributed()) MPI_Barrier(MPI_COMM_WORLD);
}

void ProcessGroup::abort(int code) const {
  if (distributed()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

MpiSession::MpiSession() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0 || launched_ranks() == 0) return;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI could not be initialised");
  owner_ = true;
  // Errors in MPI calls end the job (the default handler, stated here because it is relied on).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_group().rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world_group().size_);
}

MpiSession::~MpiSession() {
  if (!owner_) return;
  world_group() = ProcessGroup();
  MPI_Finalize();
}

#else

bool mpi_built() { return false; }

void ProcessGroup::sum(std::span<float>) const {}
bool ProcessGroup::any(bool flag) const { return flag; }
void ProcessGroup::barrier() const {}
void ProcessGroup::abort(int code) const { std::_Exit(code); }

MpiSession::MpiSession() {
  if (launched_ranks() > 1)
    throw std::runtime_error("started by mpirun with " + std::to_string(launched_ranks()) +
                             " ranks, but this nif was built without MPI (install libopenmpi-dev and rebuild)");
}

MpiSession::~MpiSession() = default;

#endif

}  // namespace nn
