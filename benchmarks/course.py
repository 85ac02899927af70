"""The course's own SimpleCNN pipeline, the baseline ladder's `cnn` rung is measured against.

Not a benchmark itself: bench_mnist.py times it on the CPU, bench_gpu.py on a GPU.
"""

from __future__ import annotations

import time

import torch

from ladder.models import SimpleCNN


class CourseDataset(torch.utils.data.Dataset):
    """The course's per-sample dataset: every image converted and normalised on its own."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.tensor(self.images[i], dtype=torch.float32).unsqueeze(0) / 255.0
        return (x - 0.1307) / 0.3081, int(self.labels[i])


def course_cnn(mnist, epochs: int = 5, device: str = "cpu") -> tuple[float, float]:
    """The baseline: seconds for `epochs` epochs, and the test accuracy reached.

    On a GPU each batch is copied there as the course does (`x.to(device)` in the loop), and the
    clock stops only once the GPU has finished.
    """
    torch.manual_seed(0)
    model = SimpleCNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(CourseDataset(mnist.X_train, mnist.y_train), batch_size=128,
                                         shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    model.eval()
    test = CourseDataset(mnist.X_test, mnist.y_test)
    with torch.no_grad():
        correct = sum((model(x.to(device)).argmax(1).cpu() == y).sum().item()
                      for x, y in torch.utils.data.DataLoader(test, batch_size=1000))
    return seconds, correct / len(test)
