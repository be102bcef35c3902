// The machine sizing for the render module: the one sizing rule lives in firstboot/sizing.hpp
// (core, so the k3s kubelet drop-in reads the same numbers as the chart values).
#pragma once

#include "firstboot/sizing.hpp"

namespace binder::firstboot::render {

using firstboot::size_machine;
using firstboot::Sizing;

}  // namespace binder::firstboot::render
