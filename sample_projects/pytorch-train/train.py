"""Fine-tune ResNet-18 on an ImageFolder dataset; settings come from config.yaml."""
import sys

import torch
import yaml
from safetensors.torch import save_file
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms
from tqdm import tqdm


def main(config_path: str = "config.yaml") -> None:
    cfg = yaml.safe_load(open(config_path))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tfm = transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224), transforms.ToTensor()])
    data = datasets.ImageFolder(cfg["data_dir"], transform=tfm)
    loader = DataLoader(data, batch_size=cfg.get("batch_size", 32), shuffle=True, num_workers=4)

    model = models.resnet18(weights=None, num_classes=len(data.classes)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.get("lr", 3e-4))
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(cfg.get("epochs", 5)):
        model.train()
        for images, labels in tqdm(loader, desc=f"epoch {epoch}"):
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
    save_file(model.state_dict(), cfg.get("output", "model.safetensors"))


if __name__ == "__main__":
    main(*sys.argv[1:])
