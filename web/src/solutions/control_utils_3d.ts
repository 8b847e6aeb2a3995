/**
 * `@mediapipe/control_utils_3d` (0.3.1675466062): `LandmarkGrid`, the rotating 3-D view of the
 * world landmarks in MediaPipe's examples, with the same constructor, `updateLandmarks`,
 * `setDistance`, configuration keys and defaults, drawn with three.js. Bundled apart from the
 * pose package (`vitruvian-3d.js` / `.mjs`), so pages without it do not load three.js.
 *
 * ```js
 * const grid = new LandmarkGrid(document.querySelector(".landmark-grid-container"));
 * grid.updateLandmarks(results.poseWorldLandmarks, POSE_CONNECTIONS,
 *                      [{list: Object.values(POSE_LANDMARKS_LEFT), color: "LEFT"}]);
 * ```
 *
 * Coordinates: the landmarks are MediaPipe's world landmarks, in metres, origin between the
 * hips, x to the image's right, y down, z away from the camera. The grid is a cube of side
 * `range` (metres) centred on the origin (on the landmarks' bounding-box centre with
 * `centered`), with `numCellsPerAxis` cells per side and labelled axes; y is drawn up and z
 * towards the viewer (three.js's axes), as MediaPipe does. With `fitToGrid` the landmarks are
 * scaled down in steps so that they fit, and the labels follow the scale. The view is drawn once
 * per `updateLandmarks` (and on resize or drag), turning by `rotationSpeed` radians each time
 * while `isRotating`; drag with the mouse to turn it by hand, click the button in the corner to
 * stop or start the rotation. `dispose()` (not in MediaPipe's) frees the canvas and GPU memory.
 */

import * as THREE from "three";

/** A landmark as the grid takes it (MediaPipe's `NormalizedLandmark`; world landmarks). */
export interface GridLandmark {
  x: number;
  y: number;
  z?: number;
  visibility?: number;
}

/** The view's settings (`ViewerWidgetConfig`). */
export interface ViewerWidgetConfig {
  /** Clear colour, 0xRRGGBB (default 0, drawn at half opacity over the page). */
  backgroundColor?: number;
  /** The camera's vertical field of view in degrees (default 75). */
  fovInDegrees?: number;
  /** Turn the view a little at each update (default true). */
  isRotating?: boolean;
  /** Radians per update (default 0.1; `LandmarkGrid`: 0.05). */
  rotationSpeed?: number;
}

/** `LandmarkGrid`'s settings; colours are 0xRRGGBB numbers. */
export interface LandmarkGridConfig extends ViewerWidgetConfig {
  axesColor?: number;
  axesWidth?: number;
  /** Centre the grid on the visible landmarks' bounding box (default false). */
  centered?: boolean;
  connectionColor?: number;
  connectionWidth?: number;
  /** Named colours for `updateLandmarks`'s colour lists, e.g. `{name: "LEFT", value: 0xffa500}`. */
  definedColors?: Array<{ name: string; value: number }>;
  /** Scale the landmarks down (in steps, the labels following) until they fit (default false). */
  fitToGrid?: boolean;
  labelPrefix?: string;
  labelSuffix?: string;
  landmarkColor?: number;
  /** Sphere radius of a landmark, in grid units (the cube's side is 100; default 3). */
  landmarkSize?: number;
  /** Margin kept around fitted landmarks, as a fraction of the half side (default 0). */
  margin?: number;
  /** Landmarks whose visibility is not above this are "hidden" (default 0.65). */
  minVisibility?: number;
  nonvisibleLandmarkColor?: number;
  numCellsPerAxis?: number;
  /** Side of the cube in the landmarks' unit (metres; default 1). */
  range?: number;
  /** Draw hidden landmarks (in `nonvisibleLandmarkColor`) and their connections (default true). */
  showHidden?: boolean;
}

/** A pair of landmark indices. */
export type Connection = number[];
/** A list of connections. */
export type ConnectionList = Connection[];
/** Lists drawn in a named colour (`definedColors`); `color: undefined` is the default colour. */
export type ColorMap<T> = Array<{ color: string | undefined; list: T[] }>;

const VIEWER_DEFAULTS: Required<ViewerWidgetConfig> = {
  backgroundColor: 0,
  fovInDegrees: 75,
  isRotating: true,
  rotationSpeed: 0.1,
};

/** `LandmarkGrid`'s defaults, as in `@mediapipe/control_utils_3d`. */
export const LANDMARK_GRID_DEFAULTS: Required<Omit<LandmarkGridConfig, keyof ViewerWidgetConfig>> &
  Pick<ViewerWidgetConfig, "rotationSpeed"> = {
  axesColor: 0xffffff,
  axesWidth: 2,
  centered: false,
  connectionColor: 0x00ffff,
  connectionWidth: 3,
  definedColors: [],
  fitToGrid: false,
  labelPrefix: "",
  labelSuffix: "",
  landmarkSize: 3,
  landmarkColor: 0xaaaaaa,
  margin: 0,
  minVisibility: 0.65,
  nonvisibleLandmarkColor: 0xff7777,
  numCellsPerAxis: 3,
  range: 1,
  rotationSpeed: 0.05,
  showHidden: true,
};

const ORIGIN = new THREE.Vector3();
const CSS = `
.vitruvian-viewer { position: relative; width: 100%; height: 100%; cursor: grab; overflow: hidden; }
.vitruvian-viewer:active { cursor: grabbing; }
.vitruvian-viewer canvas { display: block; }
.vitruvian-viewer * { user-select: none; }
.vitruvian-viewer .landmark-label { position: absolute; left: 0; top: 0; font: 10px/1 system-ui, sans-serif;
  color: #ddd; white-space: nowrap; pointer-events: none; }
.vitruvian-viewer .rotation { position: absolute; left: 6px; bottom: 6px; width: 22px; height: 22px; border: 0;
  border-radius: 4px; background: rgba(255, 255, 255, .15); color: #fff; font: 11px/22px system-ui, sans-serif;
  padding: 0; cursor: pointer; }`;

function addStyle(): void {
  if (typeof document === "undefined" || document.getElementById("vitruvian-viewer-style")) return;
  const style = document.createElement("style");
  style.id = "vitruvian-viewer-style";
  style.textContent = CSS;
  document.head.append(style);
}

/** A three.js view in a `<div>` that fills `parent`: a camera circling the origin. */
export class ViewerWidget {
  protected readonly config: Required<ViewerWidgetConfig>;
  protected readonly container: HTMLDivElement;
  protected readonly renderer: THREE.WebGLRenderer;
  protected readonly camera: THREE.PerspectiveCamera;
  protected readonly scene = new THREE.Scene();
  private distance = 150;
  private rotation = 0;
  private frame = 0;
  private readonly resizeObserver: ResizeObserver | null;
  private disposed = false;

  constructor(parent: HTMLElement, config: ViewerWidgetConfig = {}) {
    addStyle();
    this.config = { ...VIEWER_DEFAULTS, ...config };
    this.container = document.createElement("div");
    this.container.classList.add("vitruvian-viewer");
    const canvas = document.createElement("canvas");
    this.container.append(canvas);
    parent.append(this.container);
    const box = parent.getBoundingClientRect();
    this.camera = new THREE.PerspectiveCamera(this.config.fovInDegrees, aspect(box), 1);
    this.camera.position.z = this.distance;
    this.camera.lookAt(ORIGIN);
    this.renderer = new THREE.WebGLRenderer({
      canvas,
      alpha: true,
      antialias: true,
      preserveDrawingBuffer: true, // so the canvas can be read back (screenshots, tests)
    });
    this.renderer.setPixelRatio(globalThis.devicePixelRatio ?? 1);
    this.renderer.setClearColor(new THREE.Color(this.config.backgroundColor), 0.5);
    this.resize(box);
    this.resizeObserver =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => this.resize(this.container.getBoundingClientRect()));
    this.resizeObserver?.observe(this.container);
    this.addRotationButton();
    this.addMouseDrag();
  }

  /** Move the camera to `distance` grid units from the origin (default 150; the cube is 100). */
  setDistance(distance: number): void {
    this.distance = distance;
    this.placeCamera();
    this.requestFrame();
  }

  /** Stop drawing and free the canvas, its GPU resources and its listeners. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    cancelAnimationFrame(this.frame);
    this.resizeObserver?.disconnect();
    this.scene.traverse((object) => {
      const item = object as THREE.Object3D & {
        geometry?: THREE.BufferGeometry;
        material?: THREE.Material | THREE.Material[];
      };
      item.geometry?.dispose();
      for (const material of [item.material ?? []].flat()) material.dispose();
    });
    this.renderer.dispose();
    this.container.remove();
  }

  /** Draw the scene now. */
  protected render(): void {
    this.renderer.render(this.scene, this.camera);
  }

  /** Draw on the next animation frame, turning the camera first while rotating. */
  protected requestFrame(): void {
    if (this.disposed || this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.config.isRotating) {
        this.rotation += this.config.rotationSpeed;
        this.placeCamera();
      }
      this.render();
    });
  }

  /** Where a point of the scene is on the canvas, in CSS pixels from its top-left corner. */
  protected canvasPosition(point: THREE.Vector3): { x: number; y: number } {
    const projected = point.clone().project(this.camera);
    const { width, height } = this.renderer.domElement.getBoundingClientRect();
    return { x: ((projected.x + 1) / 2) * width, y: ((1 - projected.y) / 2) * height };
  }

  private placeCamera(): void {
    this.camera.position.x = Math.sin(this.rotation) * this.distance;
    this.camera.position.z = Math.cos(this.rotation) * this.distance;
    this.camera.lookAt(ORIGIN);
  }

  private resize(box: { width: number; height: number }): void {
    const width = Math.max(1, Math.floor(box.width));
    const height = Math.max(1, Math.floor(box.height));
    this.renderer.setSize(width, height);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestFrame();
  }

  private addRotationButton(): void {
    const button = document.createElement("button");
    button.className = "rotation";
    button.type = "button";
    const show = () => {
      button.textContent = this.config.isRotating ? "❚❚" : "▶";
      button.title = this.config.isRotating ? "Stop turning" : "Turn";
    };
    show();
    button.addEventListener("click", () => {
      this.config.isRotating = !this.config.isRotating;
      show();
      this.requestFrame();
    });
    this.container.append(button);
  }

  private addMouseDrag(): void {
    const element = this.renderer.domElement;
    element.addEventListener("pointerdown", (down) => {
      down.preventDefault();
      const start = this.rotation;
      const width = element.getBoundingClientRect().width || 1;
      const move = (event: PointerEvent) => {
        this.rotation = start + (2 * Math.PI * (down.clientX - event.clientX)) / width;
        this.placeCamera();
        this.requestFrame();
      };
      const up = () => {
        element.removeEventListener("pointermove", move);
        document.removeEventListener("pointerup", up);
      };
      element.addEventListener("pointermove", move);
      document.addEventListener("pointerup", up);
    });
  }
}

function aspect(box: { width: number; height: number }): number {
  return box.height > 0 ? box.width / box.height : 1;
}

interface Label {
  position: THREE.Vector3;
  element: HTMLSpanElement;
  value: number;
}

/** The grid's side in scene units (three.js), whatever `range` is. */
const SIZE = 100;
/** `fitToGrid` scales in steps of this fraction of the half range. */
const RESCALE_STEP = 0.5;

/** MediaPipe's `LandmarkGrid`: world landmarks as spheres and lines in a labelled cube. */
export class LandmarkGrid extends ViewerWidget {
  private readonly grid: Required<Omit<LandmarkGridConfig, keyof ViewerWidgetConfig>>;
  private landmarks: Array<Required<Pick<GridLandmark, "x" | "y" | "z">> & GridLandmark> = [];
  private readonly labels: { x: Label[]; y: Label[]; z: Label[] };
  private readonly landmarkGroup = new THREE.Group();
  private readonly connectionGroup = new THREE.Group();
  private readonly origin = new THREE.Vector3();
  private readonly landmarkGeometry: THREE.SphereGeometry;
  private readonly landmarkMaterial: THREE.MeshBasicMaterial;
  private readonly nonvisibleMaterial: THREE.MeshBasicMaterial;
  private readonly hiddenMaterial: THREE.MeshBasicMaterial;
  private readonly connectionMaterial: THREE.LineBasicMaterial;
  private readonly lineColors = new Map<string, THREE.LineBasicMaterial>();
  private readonly pointColors = new Map<string, THREE.MeshBasicMaterial>();
  private readonly defaultPointColor: THREE.MeshBasicMaterial;

  constructor(parent: HTMLElement, config: LandmarkGridConfig = {}) {
    const merged = { ...LANDMARK_GRID_DEFAULTS, ...config };
    super(parent, merged);
    this.grid = merged as Required<Omit<LandmarkGridConfig, keyof ViewerWidgetConfig>>;
    const g = this.grid;
    this.landmarkGeometry = new THREE.SphereGeometry(g.landmarkSize);
    this.landmarkMaterial = new THREE.MeshBasicMaterial({ color: g.landmarkColor });
    this.nonvisibleMaterial = new THREE.MeshBasicMaterial({ color: g.nonvisibleLandmarkColor });
    this.hiddenMaterial = new THREE.MeshBasicMaterial({ visible: false });
    this.connectionMaterial = new THREE.LineBasicMaterial({
      color: g.connectionColor,
      linewidth: g.connectionWidth,
    });
    this.defaultPointColor = new THREE.MeshBasicMaterial({ color: g.connectionColor });
    for (const { name, value } of g.definedColors) {
      this.lineColors.set(name, new THREE.LineBasicMaterial({ color: value, linewidth: g.connectionWidth }));
      this.pointColors.set(name, new THREE.MeshBasicMaterial({ color: value }));
    }
    this.drawAxes();
    this.labels = this.createLabels();
    this.scene.add(this.landmarkGroup, this.connectionGroup);
    this.requestFrame();
  }

  /**
   * Show `landmarks` (world landmarks, metres), joined by `colorConnections` (pairs of
   * indices, or `{color, list}` groups naming `definedColors`), with `colorLandmarks` groups
   * coloured. `updateLandmarks([])` clears the view.
   */
  updateLandmarks(
    landmarks: readonly GridLandmark[],
    colorConnections: ConnectionList | ColorMap<Connection> = [],
    colorLandmarks?: ColorMap<number>,
  ): void {
    this.clearConnections();
    this.landmarks = landmarks.map((l) => ({ x: l.x, y: l.y, z: l.z ?? 0, visibility: l.visibility }));
    const groups: ColorMap<Connection> =
      colorConnections.length > 0 && !("list" in (colorConnections[0] as object))
        ? [{ color: undefined, list: colorConnections as ConnectionList }]
        : (colorConnections as ColorMap<Connection>);
    const visible = this.landmarks.filter((l) => this.isVisible(l));
    const reference = visible.length === 0 ? this.landmarks : visible;
    this.origin.set(0, 0, 0);
    if (this.grid.centered) this.center(reference);
    let scale = 1;
    if (this.grid.fitToGrid) {
      const half = this.grid.range / 2;
      const steps = Math.ceil(((1 / this.fitFactor(reference) - 1) * half) / RESCALE_STEP);
      scale = 1 / ((steps * RESCALE_STEP) / half + 1);
      for (const l of this.landmarks) {
        l.x *= scale;
        l.y *= scale;
        l.z *= scale;
      }
    }
    for (const axis of ["x", "y", "z"] as const) {
      for (const label of this.labels[axis]) {
        this.setLabel(label.element, (label.value - this.origin[axis]) / scale);
      }
    }
    const points = this.landmarks.map((l) => this.toScene(l));
    for (const group of groups) this.drawConnections(points, group.list, group.color);
    while (this.landmarkGroup.children.length < points.length) {
      this.landmarkGroup.add(new THREE.Mesh(this.landmarkGeometry, this.landmarkMaterial));
    }
    while (this.landmarkGroup.children.length > points.length) {
      this.landmarkGroup.remove(this.landmarkGroup.children[this.landmarkGroup.children.length - 1] as THREE.Object3D);
    }
    points.forEach((point, i) => {
      const sphere = this.landmarkGroup.children[i] as THREE.Mesh;
      const shown = this.isVisible(this.landmarks[i] as GridLandmark);
      sphere.material = shown
        ? this.landmarkMaterial
        : this.grid.showHidden
          ? this.nonvisibleMaterial
          : this.hiddenMaterial;
      sphere.position.copy(point);
    });
    for (const group of colorLandmarks ?? []) this.colorLandmarks(group.list, group.color);
    this.requestFrame();
  }

  override dispose(): void {
    for (const axis of ["x", "y", "z"] as const) {
      for (const label of this.labels[axis]) label.element.remove();
    }
    for (const material of [...this.lineColors.values(), ...this.pointColors.values()]) material.dispose();
    this.landmarkGeometry.dispose();
    super.dispose();
  }

  protected override render(): void {
    super.render();
    for (const axis of ["x", "y", "z"] as const) {
      for (const label of this.labels[axis]) {
        const { x, y } = this.canvasPosition(label.position);
        label.element.style.transform = `translate(${x}px, ${y}px)`;
      }
    }
  }

  private isVisible(landmark: GridLandmark): boolean {
    return (
      landmark.visibility === undefined ||
      (landmark.visibility !== 0 && landmark.visibility > this.grid.minVisibility)
    );
  }

  /** World landmark (metres; y down, z away) to scene units (y up, z towards the viewer). */
  private toScene(l: { x: number; y: number; z: number }): THREE.Vector3 {
    return new THREE.Vector3(l.x, -l.y, -l.z).multiplyScalar(SIZE / this.grid.range);
  }

  private center(landmarks: ReadonlyArray<{ x: number; y: number; z: number }>): void {
    if (landmarks.length === 0) return;
    const mid = (axis: "x" | "y" | "z") => {
      const values = landmarks.map((l) => l[axis]);
      return (Math.max(...values) + Math.min(...values)) / 2;
    };
    const [cx, cy, cz] = [mid("x"), mid("y"), mid("z")];
    for (const l of this.landmarks) {
      l.x -= cx;
      l.y -= cy;
      l.z -= cz;
    }
    this.origin.set(cx, cy, cz);
  }

  /** The largest scale (times 1 - 2 margin) that keeps every landmark in the half range. */
  private fitFactor(landmarks: ReadonlyArray<{ x: number; y: number; z: number }>): number {
    if (landmarks.length === 0) return 1;
    let factor = Infinity;
    for (const l of landmarks) {
      const extent = Math.max(Math.abs(l.x), Math.abs(l.y), Math.abs(l.z));
      factor = Math.min(factor, this.grid.range / 2 / extent);
    }
    return factor * (1 - 2 * this.grid.margin);
  }

  private drawConnections(points: THREE.Vector3[], connections: Connection[], color?: string): void {
    const ends: THREE.Vector3[] = [];
    for (const [a, b] of connections) {
      const from = this.landmarks[a as number];
      const to = this.landmarks[b as number];
      if (!from || !to) continue;
      if (!this.grid.showHidden && (!this.isVisible(from) || !this.isVisible(to))) continue;
      ends.push(points[a as number] as THREE.Vector3, points[b as number] as THREE.Vector3);
    }
    const material = (color !== undefined && this.lineColors.get(color)) || this.connectionMaterial;
    const geometry = new THREE.BufferGeometry().setFromPoints(ends);
    this.connectionGroup.add(new THREE.LineSegments(geometry, material));
  }

  private clearConnections(): void {
    for (const child of [...this.connectionGroup.children]) {
      (child as THREE.LineSegments).geometry.dispose();
      this.connectionGroup.remove(child);
    }
  }

  private colorLandmarks(indices: number[], color?: string): void {
    const material = (color !== undefined && this.pointColors.get(color)) || this.defaultPointColor;
    for (const i of indices) {
      const landmark = this.landmarks[i];
      const sphere = this.landmarkGroup.children[i] as THREE.Mesh | undefined;
      if (landmark && sphere && this.isVisible(landmark)) sphere.material = material;
    }
  }

  /** The cube: three gridded faces (the back, left and floor), and the front edges. */
  private drawAxes(): void {
    const half = SIZE / 2;
    const gridMaterial = new THREE.LineBasicMaterial({ color: 0x999999 });
    const face = new THREE.Group();
    const cells = this.grid.numCellsPerAxis;
    const step = SIZE / cells;
    const cell = new THREE.EdgesGeometry(new THREE.PlaneGeometry(step, step));
    for (let i = 0; i < cells; i++) {
      for (let j = 0; j < cells; j++) {
        const square = new THREE.LineSegments(cell, gridMaterial);
        square.position.set(-half + step / 2 + i * step, -half + step / 2 + j * step, 0);
        face.add(square);
      }
    }
    const left = face.clone();
    left.translateX(-half);
    left.rotateY(Math.PI / 2);
    const floor = face.clone();
    floor.translateY(-half);
    floor.rotateX(Math.PI / 2);
    const back = face.clone();
    back.translateZ(-half);
    const corners = [
      [-half, half, half],
      [-half, -half, half],
      [half, -half, half],
      [half, -half, -half],
      [half, half, -half],
      [-half, half, -half],
      [-half, half, half],
    ].map(([x, y, z]) => new THREE.Vector3(x, y, z));
    const border = new THREE.Line(
      new THREE.BufferGeometry().setFromPoints(corners),
      new THREE.LineBasicMaterial({ color: this.grid.axesColor, linewidth: this.grid.axesWidth }),
    );
    this.scene.add(left, floor, back, border);
  }

  /** Tick labels on three edges, in the landmarks' unit, following `centered` and the scale. */
  private createLabels(): { x: Label[]; y: Label[]; z: Label[] } {
    const cells = this.grid.numCellsPerAxis;
    const range = this.grid.range;
    const half = SIZE / 2;
    const labels: { x: Label[]; y: Label[]; z: Label[] } = { x: [], y: [], z: [] };
    const make = (axis: "x" | "y" | "z", position: THREE.Vector3, value: number) => {
      const element = document.createElement("span");
      element.className = "landmark-label";
      this.setLabel(element, value);
      this.container.append(element);
      labels[axis].push({ position, element, value });
    };
    for (let i = 0; i < cells; i++) {
      make("x", new THREE.Vector3(((i + 1) / cells) * SIZE - half, -half, half), ((i + 1) / cells - 0.5) * range);
      make("z", new THREE.Vector3(half, -half, (i / cells) * SIZE - half), (i / cells - 0.5) * range);
    }
    for (let i = 0; i <= cells; i++) {
      make("y", new THREE.Vector3(-half, (i / cells) * SIZE - half, half), (i / cells - 0.5) * range);
    }
    return labels;
  }

  private setLabel(element: HTMLSpanElement, value: number): void {
    element.textContent = `${this.grid.labelPrefix}${value.toPrecision(2)}${this.grid.labelSuffix}`;
  }
}
